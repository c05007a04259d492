"""A charge station speaking OCPP 2.1: the 2.0.1 behaviour on the `ocpp.v21` classes.

2.1 keeps every 2.0.1 message the simulator uses (with the same field names), so only the
payload classes, the schemas and the subprotocol change. The `ocpp` package answers unknown
2.1 actions with nothing at all; this link answers NotImplemented / NotSupported instead, so
a CSMS is not left waiting for its timeout.
"""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import NotSupportedError
from ocpp.v21 import ChargePoint
from ocpp.v21.enums import Action
from websockets.asyncio.client import ClientConnection

from chargegrid.simulator.config import OcppVersion
from chargegrid.simulator.link import Link
from chargegrid.simulator.station201 import Handlers2x, Station201

_ACTIONS_21 = {action.value for action in Action}


class Link21(Handlers2x, ChargePoint):  # type: ignore[misc]
    """One OCPP 2.1 connection."""

    async def _handle_call(self, msg: Any) -> Any:
        if msg.action not in self.route_map:
            if msg.action in _ACTIONS_21:
                raise OcppNotImplemented(details={"cause": f"{msg.action} is not simulated"})
            raise NotSupportedError(details={"cause": f"{msg.action} is not an OCPP 2.1 action"})
        return await super()._handle_call(msg)


class Station21(Station201):
    """OCPP 2.1, behaving as 2.0.1 does."""

    version = OcppVersion.V21

    def _open_link(self, connection: ClientConnection) -> Link:
        return Link21(self, connection)
