"""Consume events at least once: commit after success, retry with backoff, then dead-letter.

Each record is handed to the handler with its decoded envelope under the producer's trace
context. A failing handler is retried with exponential backoff; after `max_attempts` the
record goes to `<topic>.dlq` with the error in its headers and the partition moves on, so one
poison message never blocks a station's stream and is never dropped silently. Offsets are
committed only after the handler succeeded (or the record was dead-lettered). Partitions of a
batch run concurrently; records within a partition in order. `stop()` lets the in-flight
batch finish and commit before leaving the group.

With `commit_interval_ms` (CHARGEGRID_KAFKA_COMMIT_INTERVAL_MS, default 0: after every batch)
offsets of handled batches are committed at most that often, and at once when a poll comes
back empty, when partitions are revoked and on stop(). A crash then gets up to that much back
again, which handlers absorb like any redelivery (they dedupe by event id). The durable
embedded broker stores every commit as an object-store write, and one per batch per group
slowed its producers (the stations' answers) several times over (ADR 018).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import metrics
from chargegrid.platform.bus.envelope import UndecodableEvent, decode
from chargegrid.platform.bus.headers import header_event_type
from chargegrid.platform.bus.producer import EventProducer
from chargegrid.platform.bus.topics import dlq_topic
from chargegrid.platform.logging import get_logger
from chargegrid.platform.telemetry import context_from_kafka_headers, get_tracer

Handler = Callable[[Envelope, ConsumerRecord], Awaitable[None]]

log = get_logger(__name__)
tracer = get_tracer(__name__)


def _env_ms(name: str, default: int) -> int:
    """A group timeout from CHARGEGRID_<NAME> (shared by every service), else `default`."""
    raw = os.environ.get(f"CHARGEGRID_{name}")
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"CHARGEGRID_{name}={raw!r}: expected milliseconds") from None


def default_session_timeout_ms() -> int:
    """How long the group waits for a member that stopped heartbeating (a killed process)
    before handing its partitions on. Real Kafka refuses less than 6 s by default; `make run`
    sets 3 s, since Tansu makes a restarted consumer wait about that long (ADR 018)."""
    return _env_ms("KAFKA_SESSION_TIMEOUT_MS", 10_000)


def default_heartbeat_interval_ms() -> int:
    return _env_ms("KAFKA_HEARTBEAT_INTERVAL_MS", 3_000)


def default_commit_interval_ms() -> int:
    """0 commits after every batch; `make run` sets 1000 (the embedded broker, ADR 018)."""
    return _env_ms("KAFKA_COMMIT_INTERVAL_MS", 0)


@dataclass
class ConsumerConfig:
    bootstrap_servers: str
    group_id: str
    topics: list[str]
    max_attempts: int = 5
    first_backoff_s: float = 0.2
    max_backoff_s: float = 5.0
    max_batch: int = 500
    poll_timeout_ms: int = 500
    session_timeout_ms: int = field(default_factory=default_session_timeout_ms)
    heartbeat_interval_ms: int = field(default_factory=default_heartbeat_interval_ms)
    commit_interval_ms: int = field(default_factory=default_commit_interval_ms)
    auto_offset_reset: str = "earliest"
    #: Event types the handler wants (None: all). Others are skipped, by header if present.
    event_types: frozenset[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class DeadLetterFailed(RuntimeError):
    """A record could be neither handled nor dead-lettered; it stays uncommitted."""


class PartitionStalled(Exception):
    """A partition cannot move past `next_offset` for now (the broker refused the DLQ)."""

    def __init__(self, next_offset: int) -> None:
        super().__init__(next_offset)
        self.next_offset = next_offset


def _error_headers(
    record: ConsumerRecord, group: str, exc: BaseException, attempts: int
) -> list[tuple[str, bytes]]:
    return [
        ("dlq-error-type", type(exc).__name__.encode()),
        ("dlq-error-message", str(exc)[:2000].encode(errors="replace")),
        ("dlq-attempts", str(attempts).encode()),
        ("dlq-original-topic", record.topic.encode()),
        ("dlq-original-partition", str(record.partition).encode()),
        ("dlq-original-offset", str(record.offset).encode()),
        ("dlq-consumer-group", group.encode()),
    ]


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commit what was handled of partitions before the group hands them on."""

    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        with contextlib.suppress(KafkaError):
            await self.owner.commit_handled(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None


class EventConsumer:
    """A consumer-group member that runs `handler` for every event of its topics."""

    def __init__(self, config: ConsumerConfig, handler: Handler, producer: EventProducer) -> None:
        self.config = config
        self.handler = handler
        self.producer = producer
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        #: Offsets of handled batches not committed yet (commit_interval_ms > 0).
        self._uncommitted: dict[TopicPartition, int] = {}
        self._last_commit = time.monotonic()

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.config.bootstrap_servers,
            group_id=self.config.group_id,
            enable_auto_commit=False,
            auto_offset_reset=self.config.auto_offset_reset,
            session_timeout_ms=self.config.session_timeout_ms,
            heartbeat_interval_ms=self.config.heartbeat_interval_ms,
            **self.config.extra,
        )
        await consumer.start()
        consumer.subscribe(self.config.topics, listener=_CommitOnRevoke(self))
        self._consumer = consumer

    async def run(self) -> None:
        """Consume until stop(); the batch in flight when stop() is called is finished."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("start() the consumer before run()")
        try:
            while not self._stopping.is_set():
                batch = await consumer.getmany(
                    timeout_ms=self.config.poll_timeout_ms, max_records=self.config.max_batch
                )
                if batch:
                    await self._process_batch(consumer, batch)
                elif self._uncommitted:
                    await self.commit_handled()
        finally:
            with contextlib.suppress(KafkaError):
                await self.commit_handled()
            self._stopped.set()

    async def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the in-flight batch, commit it, leave the group."""
        self._stopping.set()
        consumer = self._consumer
        if consumer is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), timeout_s)
        with contextlib.suppress(KafkaError):
            await self.commit_handled()
        self._consumer = None
        await consumer.stop()

    async def _process_batch(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        results = await asyncio.gather(
            *(self._process_partition(records) for records in batch.values()),
            return_exceptions=True,
        )
        offsets: dict[TopicPartition, int] = {}
        stalled = False
        for (tp, records), result in zip(batch.items(), results, strict=True):
            if isinstance(result, PartitionStalled):
                # Rewind: the stalled record and those after it come again after a pause.
                consumer.seek(tp, result.next_offset)
                if result.next_offset > records[0].offset:
                    offsets[tp] = result.next_offset
                stalled = True
            elif isinstance(result, BaseException):
                raise result
            else:
                offsets[tp] = result
        self._uncommitted.update(offsets)
        interval_s = self.config.commit_interval_ms / 1000
        if stalled or time.monotonic() - self._last_commit >= interval_s:
            await self.commit_handled()
        if stalled:
            await asyncio.sleep(self.config.max_backoff_s)

    async def commit_handled(self, only: set[TopicPartition] | None = None) -> None:
        """Commit what was handled (of the partitions `only`, if given)."""
        consumer = self._consumer
        if consumer is None or not self._uncommitted:
            return
        if only is None:
            offsets, self._uncommitted = self._uncommitted, {}
        else:
            offsets = {tp: o for tp, o in self._uncommitted.items() if tp in only}
            for tp in offsets:
                del self._uncommitted[tp]
        self._last_commit = time.monotonic()
        await self._commit(consumer, offsets)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except CommitFailedError as exc:
            # A rebalance took the partitions away; their new owner gets the records again.
            log.warning("commit failed after rebalance", error=str(exc))

    async def _process_partition(self, records: list[ConsumerRecord]) -> int:
        """Handle records in order; return the offset to commit next."""
        for record in records:
            try:
                await self._process_record(record)
            except DeadLetterFailed as exc:
                log.error(
                    "partition stalled",
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    error=str(exc),
                )
                raise PartitionStalled(record.offset) from exc
        return int(records[-1].offset) + 1

    def wanted_by_header(self, record: ConsumerRecord) -> bool:
        """False when the record's type header names a type the handler does not want."""
        wanted = self.config.event_types
        if wanted is None:
            return True
        named = header_event_type(record.headers)
        return named is None or named in wanted

    def wanted(self, envelope: Envelope) -> bool:
        wanted = self.config.event_types
        return wanted is None or envelope.type in wanted

    async def _process_record(self, record: ConsumerRecord) -> None:
        labels = (record.topic, self.config.group_id)
        if not self.wanted_by_header(record):
            return
        try:
            envelope = decode(record.value)
        except UndecodableEvent as exc:
            await self._dead_letter(record, exc, attempts=0)
            return
        if not self.wanted(envelope):
            return
        token = otel_context.attach(context_from_kafka_headers(record.headers))
        try:
            error = await self._handle_with_retries(envelope, record)
        finally:
            otel_context.detach(token)
        if error is None:
            metrics.CONSUMED.labels(*labels).inc()
        else:
            await self._dead_letter(record, error, attempts=self.config.max_attempts)

    async def _handle_with_retries(
        self, envelope: Envelope, record: ConsumerRecord
    ) -> Exception | None:
        labels = (record.topic, self.config.group_id)
        backoff = self.config.first_backoff_s
        for attempt in range(1, self.config.max_attempts + 1):
            started = time.perf_counter()
            try:
                with tracer.start_as_current_span(
                    f"consume {record.topic}",
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.kafka.offset": record.offset,
                        "chargegrid.event_type": envelope.type,
                    },
                ):
                    await self.handler(envelope, record)
                metrics.HANDLER_SECONDS.labels(*labels).observe(time.perf_counter() - started)
                return None
            except Exception as exc:
                metrics.HANDLER_FAILURES.labels(*labels).inc()
                log.warning(
                    "event handler failed",
                    event_id=envelope.event_id,
                    event_type=envelope.type,
                    attempt=attempt,
                    error=repr(exc),
                )
                if attempt == self.config.max_attempts:
                    return exc
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.config.max_backoff_s)
        raise AssertionError("unreachable: the loop returns on its last attempt")

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException, attempts: int) -> None:
        headers = list(record.headers or ()) + _error_headers(
            record, self.config.group_id, exc, attempts
        )
        try:
            await self.producer.publish_raw(
                dlq_topic(record.topic), record.key, record.value, headers
            )
        except (KafkaError, RuntimeError) as publish_error:
            raise DeadLetterFailed(
                f"could not dead-letter {record.topic}/{record.partition}@{record.offset}: "
                f"{publish_error}"
            ) from publish_error
        metrics.DEAD_LETTERED.labels(record.topic, self.config.group_id).inc()
        log.error(
            "event dead-lettered",
            topic=record.topic,
            offset=record.offset,
            error_type=type(exc).__name__,
            error=str(exc),
        )
