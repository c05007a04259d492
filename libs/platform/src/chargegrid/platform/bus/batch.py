"""Consume a partition's records as one batch: one handler call, so one database transaction.

A handler that writes per event spends its time on round trips and commits, not on its
rules; `BatchConsumer` hands it every wanted event of a partition's poll in offset order
instead. The guarantees stay those of `EventConsumer`: the offset is committed only after
the whole batch succeeded; a batch that fails is split in halves, applied left half first
(so a station's order holds), down to the one record that keeps failing, which is retried
with backoff and dead-lettered alone while the rest succeed. A handler must therefore be
idempotent per event (claim the batch's event ids in its transaction): halves that
succeeded before a crash come again after it and must change nothing.

Records are filtered by their `event-type` header before decoding; records undecodable or
unwanted are never handed over. One span covers a batch, not one per record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiokafka import ConsumerRecord
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import metrics
from chargegrid.platform.bus.consumer import (
    ConsumerConfig,
    DeadLetterFailed,
    EventConsumer,
    PartitionStalled,
)
from chargegrid.platform.bus.envelope import UndecodableEvent, decode
from chargegrid.platform.bus.producer import EventProducer
from chargegrid.platform.logging import get_logger
from chargegrid.platform.telemetry import context_from_kafka_headers, get_tracer

Delivered = tuple[Envelope, ConsumerRecord]
BatchHandler = Callable[[Sequence[Delivered]], Awaitable[None]]

log = get_logger(__name__)
tracer = get_tracer(__name__)


class BatchConsumer(EventConsumer):
    """A consumer-group member that runs `handler` once per partition batch."""

    def __init__(
        self, config: ConsumerConfig, handler: BatchHandler, producer: EventProducer
    ) -> None:
        async def one(envelope: Envelope, record: ConsumerRecord) -> None:
            await handler([(envelope, record)])

        super().__init__(config, one, producer)
        self.batch_handler = handler

    async def _process_partition(self, records: list[ConsumerRecord]) -> int:
        """Apply the wanted events of `records` in order; return the offset to commit next."""
        pending: list[Delivered] = []
        for record in records:
            if not self.wanted_by_header(record):
                continue
            try:
                envelope = decode(record.value)
            except UndecodableEvent as exc:
                await self._apply(pending)  # what came before it goes first
                pending = []
                await self._dead_letter_or_stall(record, exc, attempts=0)
                continue
            if self.wanted(envelope):
                pending.append((envelope, record))
        await self._apply(pending)
        return int(records[-1].offset) + 1

    async def _apply(self, items: list[Delivered]) -> None:
        if not items:
            return
        first = items[0][1]
        labels = (first.topic, self.config.group_id)
        try:
            with tracer.start_as_current_span(
                f"consume {first.topic} batch",
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.kafka.offset": first.offset,
                    "messaging.batch.message_count": len(items),
                },
            ):
                await self.batch_handler(items)
        except Exception as exc:
            metrics.HANDLER_FAILURES.labels(*labels).inc()
            if len(items) == 1:
                await self._retry_alone(items[0])
                return
            log.warning(
                "batch handler failed, splitting the batch",
                topic=first.topic,
                partition=first.partition,
                offset=first.offset,
                size=len(items),
                error=repr(exc),
            )
            middle = len(items) // 2
            await self._apply(items[:middle])
            await self._apply(items[middle:])
            return
        metrics.CONSUMED.labels(*labels).inc(len(items))

    async def _retry_alone(self, item: Delivered) -> None:
        """The record that failed on its own: retried with backoff, then dead-lettered."""
        envelope, record = item
        token = otel_context.attach(context_from_kafka_headers(record.headers))
        try:
            error = await self._handle_with_retries(envelope, record)
        finally:
            otel_context.detach(token)
        if error is None:
            metrics.CONSUMED.labels(record.topic, self.config.group_id).inc()
        else:
            await self._dead_letter_or_stall(record, error, attempts=self.config.max_attempts)

    async def _dead_letter_or_stall(
        self, record: ConsumerRecord, exc: BaseException, attempts: int
    ) -> None:
        try:
            await self._dead_letter(record, exc, attempts)
        except DeadLetterFailed as failed:
            log.error(
                "partition stalled",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=str(failed),
            )
            # Everything before this record is applied; it and what follows come again.
            raise PartitionStalled(record.offset) from failed
