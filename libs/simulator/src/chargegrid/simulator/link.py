"""The outbound side of one WebSocket connection, as the version-neutral code sees it.

A station outlives its connections; each connection gets a new link (an `ocpp` ChargePoint
subclass per version). The charging logic talks to whatever link is current through this
protocol, and a dropped connection surfaces as `OfflineError` instead of a 30 s timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from chargegrid.simulator.meter import MeterReading
from chargegrid.simulator.model import BootReason, Connector, Session

T = TypeVar("T")


class OfflineError(ConnectionError):
    """There is no connection, or it dropped while a call was waiting for its answer."""


@dataclass(frozen=True)
class BootResult:
    """The CSMS's answer to BootNotification."""

    status: str
    interval_s: int


@dataclass(frozen=True)
class UploadReport:
    """Where a log upload stands, for DiagnosticsStatus / LogStatus notifications."""

    status: str
    request_id: int | None
    diagnostics: bool


class Link(Protocol):
    """Messages a station sends; each version's ChargePoint subclass implements them."""

    async def serve(self) -> None: ...
    async def boot(self, reason: BootReason, firmware_version: str) -> BootResult: ...
    async def heartbeat(self) -> None: ...
    async def status(self, connector: Connector, *, force: bool = False) -> None: ...
    async def authorize(self, id_tag: str) -> str: ...
    async def authorize_token(self, id_tag: str, token_type: str) -> dict[str, Any]: ...
    async def transaction_started(self, session: Session, reading: MeterReading) -> str: ...
    async def transaction_updated(
        self, session: Session, reading: MeterReading, *, triggered: bool = False
    ) -> None: ...
    async def charging_state_changed(self, session: Session, reading: MeterReading) -> None: ...
    async def transaction_ended(self, session: Session, reading: MeterReading) -> None: ...
    async def meter_values(self, connector: Connector, reading: MeterReading) -> None: ...
    async def firmware_status(self, status: str, request_id: int | None, signed: bool) -> None: ...
    async def upload_status(self, report: UploadReport) -> None: ...
    async def security_event(self, kind: str, tech_info: str | None) -> None: ...
    async def sign_certificate(self, csr: str, kind: str | None) -> str: ...
    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> tuple[str, str | None]: ...


async def until_closed(call: Awaitable[T], closed: asyncio.Event) -> T:
    """Await `call`, but give up with OfflineError as soon as the connection closes."""
    if closed.is_set():
        if asyncio.iscoroutine(call):
            call.close()
        raise OfflineError("not connected")
    call_task = asyncio.ensure_future(call)
    closed_task = asyncio.ensure_future(closed.wait())
    try:
        await asyncio.wait({call_task, closed_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed_task.cancel()
        if not call_task.done():
            call_task.cancel()
    if not call_task.done() or call_task.cancelled():
        raise OfflineError("connection closed while waiting for the answer")
    return call_task.result()
