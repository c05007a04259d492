"""A charge station speaking OCPP 2.0.1.

Adds the 2.x device model to the version-neutral station and opens a `Link201` (the 2.x
handler families on the `ocpp.v201` classes and schemas) for every connection.
"""

from __future__ import annotations

from collections.abc import Callable
from ssl import SSLContext

from ocpp.v201 import ChargePoint
from websockets.asyncio.client import ClientConnection

from chargegrid.simulator.clock import Clock, utc_now
from chargegrid.simulator.config import OcppVersion, StationConfig
from chargegrid.simulator.device_model import DeviceModel
from chargegrid.simulator.handlers2x_auth import Authorization2x
from chargegrid.simulator.handlers2x_charging import SmartCharging2x
from chargegrid.simulator.handlers2x_core import Core2x
from chargegrid.simulator.handlers2x_cost import Cost2x
from chargegrid.simulator.handlers2x_device import DeviceModel2x
from chargegrid.simulator.handlers2x_display import Display2x
from chargegrid.simulator.handlers2x_maintenance import Maintenance2x
from chargegrid.simulator.handlers2x_monitoring import Monitoring2x
from chargegrid.simulator.handlers2x_security import Security2x
from chargegrid.simulator.link import Link
from chargegrid.simulator.station import Station


class Handlers2x(
    Core2x,
    DeviceModel2x,
    SmartCharging2x,
    Maintenance2x,
    Authorization2x,
    Cost2x,
    Display2x,
    Monitoring2x,
    Security2x,
):
    """Every 2.x handler family; 2.0.1 and 2.1 links add their version's `ocpp` classes."""


class Link201(Handlers2x, ChargePoint):  # type: ignore[misc]
    """One OCPP 2.0.1 connection."""


class Station201(Station):
    """OCPP 2.0.1: station-numbered transactions, TransactionEvent, device model."""

    version = OcppVersion.V201

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
        self.device_model = DeviceModel(self)

    def _open_link(self, connection: ClientConnection) -> Link:
        return Link201(self, connection)
