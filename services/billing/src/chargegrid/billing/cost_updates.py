"""CostUpdated: the running cost of an active session, shown on the station's display.

OCPP 2.0.1 and 2.1 have CostUpdated (1.6 has none). After billing stored a session.updated,
the session's estimate is sent when its rounded total changed since the last one sent. It is
best effort and never holds up the consumer: at most one call per session at a time, a
bounded number overall (more are dropped and counted), a short deadline. A station that is
not connected, is 1.6 or answers NotImplemented/NotSupported is skipped; that it lacks the
message is remembered for a while. The authoritative figure remains the CDR.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import grpc
import orjson
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.common.v1.common_pb2 import OcppVersion
from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.billing.estimates import estimate
from chargegrid.platform.grpc.errors import NotFound
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
#: Versions that have CostUpdated.
WITH_COST_UPDATED = frozenset({OcppVersion.OCPP_VERSION_201, OcppVersion.OCPP_VERSION_21})

COST_UPDATES = Counter(
    "chargegrid_billing_cost_updates_total",
    "CostUpdated messages to stations, by result.",
    ["result"],
)
_RESULTS = {
    name: COST_UPDATES.labels(result=name)
    for name in ("sent", "unchanged", "unsupported", "offline", "failed", "dropped")
}


class NotConnected(Exception):
    """The station is not connected to any gateway (or the gateway is not reachable)."""


class NotSupported(Exception):
    """The station does not implement CostUpdated."""


class StationDisplay(Protocol):
    """How billing reaches a station (the gateway's StationControl in production)."""

    async def supports_cost_updates(self, station_id: str) -> bool:
        """Whether the connected station speaks a version with CostUpdated."""
        ...

    async def show_cost(self, station_id: str, transaction_id: str, total: Decimal) -> None:
        """Send CostUpdated; raises NotConnected or NotSupported, or another error."""
        ...


class GatewayDisplay:
    """StationDisplay over the gateway's gRPC StationControl (GetConnection, Call)."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self._control: Any = StationControlStub(channel)
        self.timeout_s = timeout_s

    async def supports_cost_updates(self, station_id: str) -> bool:
        try:
            connection = await self._control.GetConnection(
                ctl.GetConnectionRequest(station_id=station_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            raise NotConnected(exc.details() or exc.code().name) from exc
        return connection.ocpp_version in WITH_COST_UPDATED

    async def show_cost(self, station_id: str, transaction_id: str, total: Decimal) -> None:
        payload = {"totalCost": float(total), "transactionId": transaction_id}
        request = ctl.RawCallRequest(
            station_id=station_id,
            action="CostUpdated",
            payload_json=orjson.dumps(payload).decode(),
        )
        try:
            await self._control.Call(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNIMPLEMENTED:
                raise NotSupported(exc.details() or "") from exc
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
                raise NotConnected(exc.details() or exc.code().name) from exc
            raise


@dataclass(frozen=True)
class RunningSession:
    session_id: str
    station_id: str
    transaction_id: str


class CostUpdates:
    """Schedules CostUpdated after session updates; see the module docstring."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        display: StationDisplay,
        *,
        max_pending: int = 200,
        remember_unsupported_s: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.display = display
        self.max_pending = max_pending
        self.remember_unsupported_s = remember_unsupported_s
        self.monotonic = monotonic
        self._last_sent: dict[str, Decimal] = {}
        self._unsupported: dict[str, float] = {}
        #: Stations seen connected with 2.x, and when: asked again after `remember_supported_s`.
        self._supported: dict[str, float] = {}
        self.remember_supported_s = 300.0
        self._pending: dict[str, asyncio.Task[None]] = {}

    def session_updated(self, running: RunningSession) -> None:
        """Called after a session.updated committed; returns at once."""
        if running.session_id in self._pending or not running.transaction_id:
            return  # the call in flight will send the newest estimate anyway
        if len(self._pending) >= self.max_pending:
            _RESULTS["dropped"].inc()
            return
        task = asyncio.create_task(self._update(running))
        self._pending[running.session_id] = task
        task.add_done_callback(lambda done: self._forget(running.session_id, done))

    def _forget(self, session_id: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(session_id) is task:
            del self._pending[session_id]

    def session_closed(self, session_id: str) -> None:
        """The station shows the final cost from the TransactionEvent answer: stop here."""
        self._last_sent.pop(session_id, None)
        pending = self._pending.pop(session_id, None)
        if pending is not None:
            pending.cancel()

    def _known_unsupported(self, station_id: str) -> bool:
        since = self._unsupported.get(station_id)
        if since is None:
            return False
        if self.monotonic() - since < self.remember_unsupported_s:
            return True
        del self._unsupported[station_id]
        return False

    async def _supports(self, station_id: str) -> bool:
        """The station's version, asked of the gateway at most every few minutes."""
        seen = self._supported.get(station_id)
        if seen is not None and self.monotonic() - seen < self.remember_supported_s:
            return True
        if not await self.display.supports_cost_updates(station_id):
            self._supported.pop(station_id, None)
            return False
        self._supported[station_id] = self.monotonic()
        return True

    async def _update(self, running: RunningSession) -> None:
        station_id = running.station_id
        if self._known_unsupported(station_id):
            _RESULTS["unsupported"].inc()
            return
        try:
            async with self.sessions() as session:
                total = (await estimate(session, running.session_id, self.clock())).total_incl_vat
            if self._last_sent.get(running.session_id) == total:
                _RESULTS["unchanged"].inc()
                return
            if not await self._supports(station_id):
                raise NotSupported("its OCPP version has no CostUpdated")
            await self.display.show_cost(station_id, running.transaction_id, total)
        except NotFound:
            return  # billed meanwhile: the session is over
        except NotConnected:
            self._supported.pop(station_id, None)
            _RESULTS["offline"].inc()
            return
        except NotSupported as exc:
            self._unsupported[station_id] = self.monotonic()
            _RESULTS["unsupported"].inc()
            log.info("station shows no running cost", station_id=station_id, reason=str(exc))
            return
        except Exception as exc:  # best effort: never take the consumer down
            _RESULTS["failed"].inc()
            log.warning("cost update failed", station_id=station_id, error=str(exc))
            return
        if running.session_id in self._pending:  # not closed meanwhile
            self._last_sent[running.session_id] = total
        _RESULTS["sent"].inc()

    async def stop(self) -> None:
        """Let calls in flight finish (each has a short deadline)."""
        await asyncio.gather(*list(self._pending.values()), return_exceptions=True)
