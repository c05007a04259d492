"""What every protocol link shares, whatever its OCPP version.

Two rules of the `ocpp` package shape this class. Handlers run inside the receive loop, so a
handler that awaited a call of its own would deadlock: follow-up work (a StatusNotification
after ReserveNow, a reboot after Reset) is deferred and starts once the reply has been sent,
which is also the order OCPP requires. And a call waits for its answer up to the response
timeout: here it ends with OfflineError the moment the connection drops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import ChargePoint
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from chargegrid.simulator.link import OfflineError, until_closed
from chargegrid.simulator.model import Connector

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station

Deferred = Callable[[], Coroutine[Any, Any, Any]]


class LinkBase(ChargePoint):  # type: ignore[misc]
    """An `ocpp` ChargePoint bound to one connection of a long-lived station."""

    def __init__(self, station: Station, connection: ClientConnection) -> None:
        super().__init__(
            station.station_id, connection, response_timeout=station.config.response_timeout_s
        )
        self.station = station
        self._closed = asyncio.Event()
        self._deferred: list[Deferred] = []

    async def serve(self) -> None:
        """Receive and dispatch until the connection closes."""
        try:
            await self.start()
        except ConnectionClosed:
            return
        finally:
            self._closed.set()

    async def request(self, payload: Any) -> Any:
        """Send a CALL and return the typed CALLRESULT; CALLERRORs raise."""
        try:
            reply = await until_closed(self.call(payload, suppress=False), self._closed)
        except ConnectionClosed as exc:
            raise OfflineError(str(exc)) from exc
        self.station.answered[type(payload).__name__.removesuffix("Payload")] += 1
        return reply

    def defer(self, work: Deferred) -> None:
        """Run `work` once the reply to the CALL being handled has been sent."""
        self._deferred.append(work)

    def after_reply(self, action: Callable[[], object]) -> None:
        """Like `defer`, for a plain function."""

        async def run() -> None:
            action()

        self.defer(run)

    def announce_later(self, connectors: list[Connector]) -> None:
        """Send the status of each connector once the reply is out."""
        for connector in connectors:
            self.defer(partial(self.station.charging.announce, connector))

    async def route_message(self, raw_msg: str) -> None:
        try:
            await super().route_message(raw_msg)
        finally:
            deferred, self._deferred = self._deferred, []
            for work in deferred:
                self.station.spawn(work())
