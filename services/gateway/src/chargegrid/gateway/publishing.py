"""Store what a station said, and what it means, in Kafka before the station is answered.

For each CALL the gateway stores one batch: the exchange (the raw CALL and the raw reply about
to be sent, one ocpp.frames.v1 record) and the version-neutral events it carries. The batch is
sent at once and every acknowledgement awaited, so a MeterValues costs one round trip to the
broker. `BusUnavailable` propagates: the caller answers InternalError.

Group commit: the batches of every station whose CALL is handled in the same event-loop
iteration are published together, as one `publish_batch`, and each caller resumes once every
record of the group is acknowledged (acks=all). A busy gateway handles tens of stations per
iteration, and one publish per group instead of one per station took about a tenth off the
CPU time of a MeterValues round trip. Nothing is answered before its records are stored; a
station's records keep their order (a station has one CALL in flight, and its records go out
in one group). If the group is not acknowledged, every station in it gets BusUnavailable
(so InternalError, and retries) -- as before, some of its records may have been stored anyway.
A retriable failure (the broker restarting: NodeNotReady, then UnknownError on its first
writes; a request timeout) is retried, the same records again, until `retry_budget_s` has
passed since the group was first sent: a broker restart shorter than that is never seen by a
station, only a slower answer. A record may so be stored twice; it keeps its event id, and
consumers dedupe by it. Only records an answer waits for join groups (an inbound frame, capped
by max_frame_bytes, and its events); best-effort records (audit, the CSMS's own calls,
connects) are published on their own, so one that Kafka refuses fails nobody else.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.ocpp.v1 import frames_pb2
from chargegrid.gateway.redaction import SECRET_ACTIONS, redact_call
from chargegrid.gateway.routing import Emit, StationInfo
from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory, EventProducer
from chargegrid.platform.bus.topics import OCPP_FRAMES
from chargegrid.platform.logging import get_logger

INBOUND = frames_pb2.DIRECTION_INBOUND
OUTBOUND = frames_pb2.DIRECTION_OUTBOUND
log = get_logger(__name__)


@dataclass(slots=True)
class Exchange:
    """A CALL (or an unreadable frame) and the answer to it, as they were on the wire.

    Not frozen: one is built for every frame, and a frozen dataclass's __init__ costs
    about five times as much."""

    direction: frames_pb2.Direction.ValueType
    raw: str
    message_type_id: int
    unique_id: str
    action: str
    reply_raw: str = ""
    reply_message_type_id: int = 0


class _Group:
    """Records bound for Kafka from one event-loop iteration, and who waits for them."""

    __slots__ = ("items", "waiters")

    def __init__(self) -> None:
        self.items: list[tuple[str, Envelope]] = []
        self.waiters: list[asyncio.Future[None]] = []


class GatewayPublisher:
    def __init__(
        self, producer: EventProducer, factory: EnvelopeFactory, retry_budget_s: float = 5.0
    ) -> None:
        self.producer = producer
        self.factory = factory
        self.retry_budget_s = retry_budget_s
        self._group: _Group | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    def _frame(self, station: StationInfo, exchange: Exchange) -> Envelope:
        raw = exchange.raw
        if exchange.direction == OUTBOUND and exchange.action in SECRET_ACTIONS:
            raw = redact_call(exchange.action, raw)
        payload = frames_pb2.OcppFrame(
            direction=exchange.direction,
            ocpp_version=station.version.to_proto(),
            message_type_id=exchange.message_type_id,
            unique_id=exchange.unique_id,
            action=exchange.action,
            raw=raw,
            gateway_pod=station.gateway_pod,
            reply_raw=exchange.reply_raw,
            reply_message_type_id=exchange.reply_message_type_id,
        )
        return self.factory.wrap(
            "ocpp.exchange", station.station_id, payload, correlation_id=exchange.unique_id
        )

    def _items(
        self, station: StationInfo, exchange: Exchange | None, events: list[Emit], correlation: str
    ) -> list[tuple[str, Envelope]]:
        items = [] if exchange is None else [(OCPP_FRAMES, self._frame(station, exchange))]
        items += [
            (
                event.topic,
                self.factory.wrap(
                    event.type,
                    station.station_id,
                    event.payload,
                    occurred_at=event.occurred_at,
                    correlation_id=correlation,
                ),
            )
            for event in events
        ]
        return items

    async def store(
        self, station: StationInfo, exchange: Exchange | None, events: list[Emit], correlation: str
    ) -> None:
        """The exchange and its events, acknowledged with this iteration's group; raises
        BusUnavailable."""
        items = self._items(station, exchange, events, correlation)
        if items:
            await self._join(items)

    def _join(self, items: list[tuple[str, Envelope]]) -> asyncio.Future[None]:
        """Add `items` to this iteration's group; the future resolves once all are stored."""
        loop = asyncio.get_running_loop()
        group = self._group
        if group is None:
            group = self._group = _Group()
            flush = loop.create_task(self._flush(group))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        group.items += items
        waiter: asyncio.Future[None] = loop.create_future()
        group.waiters.append(waiter)
        return waiter

    async def _flush(self, group: _Group) -> None:
        """Runs one iteration after the group opened: publish everything that joined it."""
        if self._group is group:
            self._group = None
        try:
            await self._publish_within_budget(group.items)
        except asyncio.CancelledError:
            self._fail(group, BusUnavailable("publishing was cancelled"))
            raise
        except BusUnavailable as exc:
            self._fail(group, exc)
            return
        except Exception as exc:  # a bug, not an outage: still answer, never hang a station
            log.exception("publishing failed", records=len(group.items))
            self._fail(group, exc)
            return
        for waiter in group.waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _publish_within_budget(self, items: list[tuple[str, Envelope]]) -> None:
        """publish_batch, again after a retriable failure, until the budget is spent."""
        deadline = time.monotonic() + self.retry_budget_s
        pause = 0.05
        attempt = 1
        while True:
            remaining = deadline - time.monotonic()
            try:
                await self.producer.publish_batch(items, timeout_s=max(remaining, 0.05))
                return
            except BusUnavailable as exc:
                if not exc.retriable or time.monotonic() + pause >= deadline:
                    raise
                log.warning(
                    "publish failed, retrying", attempt=attempt, records=len(items), error=str(exc)
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
            attempt += 1

    @staticmethod
    def _fail(group: _Group, cause: BaseException) -> None:
        for waiter in group.waiters:
            if not waiter.done():  # a caller that was cancelled no longer waits
                failure = BusUnavailable(str(cause) or type(cause).__name__)
                failure.__cause__ = cause
                waiter.set_exception(failure)

    async def store_best_effort(
        self, station: StationInfo, exchange: Exchange | None, events: list[Emit]
    ) -> bool:
        """For records nothing is acknowledged on (bad frames, audit, the CSMS's own calls,
        connects): published on their own, outside the groups, so that one of them that Kafka
        refuses (an outbound call's record can be large) fails nobody else's answer; failures
        are logged."""
        items = self._items(station, exchange, events, exchange.unique_id if exchange else "")
        if not items:
            return True
        try:
            await self.producer.publish_batch(items)
        except BusUnavailable as exc:
            log.warning("audit record not stored", station_id=station.station_id, error=str(exc))
            return False
        return True
