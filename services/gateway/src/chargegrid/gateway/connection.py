"""One station's WebSocket: read frames in order, answer each, carry CSMS calls out.

Inbound CALLs are handled one at a time in arrival order (a station may not send the next
before the answer anyway): parse, validate against the official schema, run the version's
handler, store frames and events in Kafka, then answer. Any failure becomes the CALLERROR
the specification names, never an exception that kills the connection. Outbound calls are
serialised by a lock (one outstanding CALL per station, as OCPP requires; later commands
queue in order) and completed by the station's CALLRESULT or CALLERROR.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway import metrics
from chargegrid.gateway.clock import Sources
from chargegrid.gateway.commands.message_limits import MessageLimits
from chargegrid.gateway.decisions import Decisions
from chargegrid.gateway.events import notification
from chargegrid.gateway.limits import TokenBucket, ViolationCounter
from chargegrid.gateway.protocol import frames
from chargegrid.gateway.protocol.errors import ErrorCode, OcppError, wire_code
from chargegrid.gateway.protocol.schemas import Direction, known_action, validate
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.publishing import INBOUND, OUTBOUND, Exchange, GatewayPublisher
from chargegrid.gateway.registration import BOOT, RegistrationGate
from chargegrid.gateway.routing import CallContext, Emit, Routes, StationInfo
from chargegrid.platform.bus import BusUnavailable
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
_LEADING_ID = re.compile(rb'^\s*\[\s*\d\s*,\s*"([^"\\]{1,36})"')
POLICY_VIOLATION = 1008


class StationOffline(Exception):
    """The station is not connected (or went away before answering)."""


class StationTimeout(Exception):
    """The station did not answer within the deadline."""


class StationNotAccepted(Exception):
    """The station's boot is Pending or Rejected: the spec does not allow this call now."""


class StationCallError(Exception):
    """The station answered with a CALLERROR."""

    def __init__(self, code: str, description: str, details: dict[str, Any]) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_frame_bytes: int
    max_messages_per_s: float
    garbage_limit: int
    garbage_window_s: float


@dataclass(slots=True)
class _PendingCall:
    unique_id: str
    action: str
    raw: str
    future: asyncio.Future[dict[str, Any]]
    reply_raw: str = ""
    reply_type: int = 0


class StationConnection:
    def __init__(
        self,
        websocket: ServerConnection,
        station: StationInfo,
        routes: Routes,
        publisher: GatewayPublisher,
        decisions: Decisions,
        sources: Sources,
        limits: ConnectionLimits,
    ) -> None:
        self.ws = websocket
        self.station = station
        self.version = station.version
        self.routes = routes
        self.publisher = publisher
        self.decisions = decisions
        self.sources = sources
        self.limits = limits
        self.last_seen = time.monotonic()
        #: DeviceDataCtrlr Items/BytesPerMessage, read once when a command first needs them.
        self.message_limits: MessageLimits | None = None
        self._bucket = TokenBucket(limits.max_messages_per_s, 2 * limits.max_messages_per_s)
        self._violations = ViolationCounter(limits.garbage_limit, limits.garbage_window_s)
        self._call_lock = asyncio.Lock()
        #: Held while a frame is handled, so a drain closes between frames, never mid-answer.
        self._handling = asyncio.Lock()
        self._pending: _PendingCall | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._extra_types = (
            frozenset({frames.CALLRESULTERROR, frames.SEND})
            if self.version is OcppVersion.V21
            else frozenset()
        )
        self._version_label = self.version.value
        self.registration = RegistrationGate(self.version)

    # -- reading ---------------------------------------------------------------------------

    async def serve(self) -> None:
        """Handle frames until the socket closes."""
        try:
            async for raw in self.ws:
                delay = self._bucket.take()
                if delay > 0:
                    metrics.THROTTLED.labels(self._version_label).inc()
                    await asyncio.sleep(delay)
                self.last_seen = time.monotonic()
                async with self._handling:
                    await self.on_message(raw)
        except ConnectionClosed:
            pass
        finally:
            pending = self._pending
            if pending is not None and not pending.future.done():
                pending.future.set_exception(StationOffline(f"{self.station.station_id} left"))
            if self._background:
                await asyncio.gather(*self._background, return_exceptions=True)

    async def on_message(self, raw: str | bytes) -> None:
        size = len(raw)
        if size > self.limits.max_frame_bytes:
            data = raw.encode() if isinstance(raw, str) else raw
            match = _LEADING_ID.match(data[:64])
            await self._reject(
                raw,
                match.group(1).decode() if match else frames.UNKNOWN_ID,
                "",
                ErrorCode.FORMAT_VIOLATION,
                f"frame of {size} bytes exceeds the {self.limits.max_frame_bytes} byte limit",
            )
            return
        try:
            frame = frames.parse(raw, self._extra_types)
        except frames.FrameError as exc:
            await self._reject(raw, exc.unique_id, "", exc.code, exc.description)
            return
        if isinstance(frame, frames.Call):
            await self._on_call(frame, raw)
        elif isinstance(frame, frames.Send):
            await self._on_send(frame, raw)
        else:
            await self._on_reply(frame, raw)

    async def _on_send(self, send: frames.Send, raw: str | bytes) -> None:
        """2.1 SEND: validated and stored; never answered, so errors are only recorded."""
        try:
            validate(self.version, send.action, Direction.SEND, send.payload)
        except OcppError as exc:
            detail = f"SEND {send.action}: {exc.description}"
            events = [self._violation_event(wire_code(exc.code, self.version), detail, False)]
            self._record(raw, send.unique_id, send.action, None, events, frames.SEND)
            await self._count_violation()
            return
        self._record(
            raw,
            send.unique_id,
            send.action,
            None,
            [notification(send.action, send.payload)],
            frames.SEND,
        )

    async def _on_call(self, call: frames.Call, raw: str | bytes) -> None:
        started = time.perf_counter()
        handler = self.routes.get(call.action)
        try:
            if handler is None:
                known = known_action(self.version, call.action)
                raise OcppError(
                    ErrorCode.NOT_SUPPORTED if known else ErrorCode.NOT_IMPLEMENTED,
                    f"{call.action} is {'not accepted from a station' if known else 'unknown'}"
                    f" in OCPP {self.version}",
                )
            if not self.registration.admits(call.action):
                await self._reject(
                    raw,
                    call.unique_id,
                    call.action,
                    ErrorCode.SECURITY_ERROR,
                    f"{call.action} refused: the station's boot is "
                    f"{self.registration.status}, send BootNotification until Accepted",
                    violation=False,
                )
                return
            validate(self.version, call.action, Direction.REQUEST, call.payload)
            context = CallContext(
                self.station, call.unique_id, self.sources.clock(), self.decisions, self.sources
            )
            outcome = await handler(context, call.payload)
        except OcppError as exc:
            await self._reject(
                raw, call.unique_id, call.action, exc.code, exc.description, exc.details
            )
            return
        except Exception as exc:
            log.exception("handler failed", station_id=self.station.station_id, action=call.action)
            await self._reject(
                raw,
                call.unique_id,
                call.action,
                ErrorCode.INTERNAL_ERROR,
                f"could not process {call.action}: {type(exc).__name__}",
                violation=False,
            )
            return
        reply = frames.dump_result(call.unique_id, outcome.response)
        text = raw if isinstance(raw, str) else raw.decode(errors="replace")
        exchange = Exchange(
            INBOUND, text, frames.CALL, call.unique_id, call.action, reply, frames.CALLRESULT
        )
        try:
            await self.publisher.store(self.station, exchange, outcome.events, call.unique_id)
        except BusUnavailable as exc:
            log.error(
                "event store unavailable: answering InternalError",
                station_id=self.station.station_id,
                action=call.action,
                error=str(exc),
            )
            await self._reject(
                raw,
                call.unique_id,
                call.action,
                ErrorCode.INTERNAL_ERROR,
                "event store unavailable, retry later",
                violation=False,
                audit=False,
            )
            return
        if call.action == BOOT:
            self.registration.booted(str(outcome.response.get("status", "")))
        await self.ws.send(reply)
        metrics.observe_call(self._version_label, call.action, time.perf_counter() - started)

    async def _reject(
        self,
        raw: str | bytes,
        unique_id: str,
        action: str,
        code: ErrorCode,
        description: str,
        details: dict[str, Any] | None = None,
        *,
        violation: bool = True,
        audit: bool = True,
    ) -> None:
        """Answer a CALLERROR; count and record the violation when it is the station's fault."""
        wire = wire_code(code, self.version)
        metrics.CALL_ERRORS.labels(self._version_label, wire).inc()
        reply = frames.dump_error(unique_id, wire, description, details)
        if audit:
            events = [self._violation_event(wire, description, False)] if violation else []
            self._record(raw, unique_id, action, reply, events, frames.CALL if action else 0)
        await self.ws.send(reply)
        if violation:
            await self._count_violation()

    def _violation_event(self, code: str, detail: str, disconnected: bool) -> Emit:
        payload = station_events.ProtocolViolation(
            error_code=code, detail=detail[:500], disconnected=disconnected
        )
        return Emit(STATION_EVENTS, "station.protocol_violation", payload)

    def _record(
        self,
        raw: str | bytes,
        unique_id: str,
        action: str,
        reply: str | None,
        events: list[Emit],
        message_type: int = 0,
    ) -> None:
        """Store an audit record in the background: nothing is acknowledged on it."""
        text = raw if isinstance(raw, str) else raw.decode(errors="replace")
        exchange = Exchange(
            INBOUND,
            text[:65_536],
            message_type,
            unique_id,
            action,
            reply or "",
            frames.CALLERROR if reply else 0,
        )
        self._in_background(self.publisher.store_best_effort(self.station, exchange, events))

    def _in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _count_violation(self) -> None:
        if not self._violations.record():
            return
        log.warning(
            "disconnecting a station that keeps sending bad frames",
            station_id=self.station.station_id,
        )
        metrics.GARBAGE_DISCONNECTS.labels(self._version_label).inc()
        event = self._violation_event(
            "TooManyBadFrames",
            f"{self.limits.garbage_limit} bad frames within {self.limits.garbage_window_s:.0f}s",
            True,
        )
        await self.publisher.store_best_effort(self.station, None, [event])
        await self.ws.close(POLICY_VIOLATION, "too many malformed messages")

    # -- replies to our calls -----------------------------------------------------------------

    async def _on_reply(
        self, frame: frames.CallResult | frames.CallError, raw: str | bytes
    ) -> None:
        pending = self._pending
        type_id = frames.CALLRESULT if isinstance(frame, frames.CallResult) else frames.CALLERROR
        if pending is None or pending.unique_id != frame.unique_id or pending.future.done():
            detail = f"reply to unknown message id {frame.unique_id!r}"
            self._record(
                raw,
                frame.unique_id,
                "",
                None,
                [self._violation_event("UnknownMessageId", detail, False)],
                type_id,
            )
            await self._count_violation()
            return
        pending.reply_raw = raw if isinstance(raw, str) else raw.decode(errors="replace")
        pending.reply_type = type_id
        if isinstance(frame, frames.CallError):
            pending.future.set_exception(
                StationCallError(frame.code, frame.description, frame.details)
            )
            return
        try:
            validate(self.version, pending.action, Direction.RESPONSE, frame.payload)
        except OcppError as exc:
            pending.future.set_exception(
                StationCallError(
                    wire_code(exc.code, self.version),
                    f"station's reply breaks the schema: {exc.description}",
                    exc.details,
                )
            )
            return
        pending.future.set_result(frame.payload)

    # -- calls to the station -------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send a CALL and return the station's CALLRESULT payload.

        Raises OcppError (the payload breaks the schema: nothing was sent), StationNotAccepted
        (not allowed while the station's boot is Pending or Rejected), StationOffline,
        StationTimeout or StationCallError.
        """
        if not self.registration.may_send(action):
            raise StationNotAccepted(
                f"{self.station.station_id} is {self.registration.status}: {action} may not be"
                " sent before its boot is Accepted"
            )
        validate(self.version, action, Direction.REQUEST, payload)
        async with self._call_lock:
            unique_id = self.sources.ids()
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            text = frames.dump_call(unique_id, action, payload)
            pending = self._pending = _PendingCall(unique_id, action, text, future)
            self.registration.sending(action, payload)
            try:
                await self.ws.send(text)
            except ConnectionClosed as exc:
                self._pending = None
                raise StationOffline(f"{self.station.station_id} is not connected") from exc
            try:
                return await asyncio.wait_for(future, timeout_s)
            except TimeoutError as exc:
                raise StationTimeout(
                    f"{self.station.station_id} did not answer {action} within {timeout_s:.0f}s"
                ) from exc
            finally:
                self._pending = None
                exchange = Exchange(
                    OUTBOUND,
                    text,
                    frames.CALL,
                    unique_id,
                    action,
                    pending.reply_raw,
                    pending.reply_type,
                )
                self._in_background(self.publisher.store_best_effort(self.station, exchange, []))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    async def drain(self, reason: str = "gateway draining") -> None:
        """Close once the frame being handled (if any) has been stored and answered, so the
        station reconnects elsewhere without a message left half-done (1001 going away)."""
        async with self._handling:
            await self.ws.close(1001, reason)
