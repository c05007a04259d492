"""The OCPP 2.1 routing table: the 2.0.1 set, each message checked with 2.1's own schemas.

2.1 adds station-initiated actions of its own (e.g. NotifyPeriodicEventStream, BatterySwap,
NotifyDERAlarm); those are answered NotSupported until a service owns them.
"""

from __future__ import annotations

from chargegrid.gateway.ocpp201.routes import ROUTES as OCPP201_ROUTES
from chargegrid.gateway.routing import Routes

ROUTES: Routes = dict(OCPP201_ROUTES)
