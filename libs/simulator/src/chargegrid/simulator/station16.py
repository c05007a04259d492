"""A charge station speaking OCPP 1.6J.

Adds the 1.6 configuration keys to the version-neutral station and opens a `Link16` (the
1.6 handler families on the `ocpp.v16` classes and schemas) for every connection.
"""

from __future__ import annotations

from collections.abc import Callable
from ssl import SSLContext

from ocpp.v16 import ChargePoint
from websockets.asyncio.client import ClientConnection

from chargegrid.simulator.clock import Clock, utc_now
from chargegrid.simulator.config import OcppVersion, StationConfig
from chargegrid.simulator.config16 import ConfigurationStore
from chargegrid.simulator.handlers16_auth import Authorization16
from chargegrid.simulator.handlers16_charging import SmartCharging16
from chargegrid.simulator.handlers16_core import Core16
from chargegrid.simulator.handlers16_maintenance import Maintenance16
from chargegrid.simulator.handlers16_security import Security16
from chargegrid.simulator.link import Link
from chargegrid.simulator.station import Station


class Link16(
    Core16,
    SmartCharging16,
    Maintenance16,
    Authorization16,
    Security16,
    ChargePoint,  # type: ignore[misc]
):
    """One OCPP 1.6 connection of a `Station16`."""


class Station16(Station):
    """OCPP 1.6J: CSMS-numbered transactions, configuration keys."""

    version = OcppVersion.V16

    def __init__(
        self,
        config: StationConfig,
        url: str,
        *,
        clock: Clock = utc_now,
        ssl: SSLContext | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(config, url, clock=clock, ssl=ssl, id_factory=id_factory)
        self.configuration = ConfigurationStore(self.config, self.policy, self.change_password)

    def _open_link(self, connection: ClientConnection) -> Link:
        return Link16(self, connection)
