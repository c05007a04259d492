"""Publish events to Kafka and return only once the broker has acknowledged them.

The gateway answers a station only after its event is stored, so `publish` awaits the
acknowledgement (acks=all) and either returns where the record landed or raises
`BusUnavailable` within a bounded time: it never hangs and never reports a record as
stored when it was not. Idempotence is a setting (real Kafka: on; the embedded broker
cannot do it). The record key is the station id, which keeps each station's order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NamedTuple, Self

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, UnknownError

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import metrics
from chargegrid.platform.bus.envelope import encode
from chargegrid.platform.bus.headers import event_type_header
from chargegrid.platform.bus.partitioner import CachedKeyPartitioner
from chargegrid.platform.telemetry import kafka_headers_with_context


class BusUnavailable(RuntimeError):
    """Kafka did not acknowledge the record in time; the record may not be stored.

    `retriable`: the same records may well be acknowledged if sent again (the broker is
    restarting or moving a leader, a request timed out), unlike a record that is too large.
    """

    def __init__(self, message: str, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


def is_retriable(exc: BaseException) -> bool:
    """Whether sending again can succeed. UnknownError counts: Tansu answers it for about a
    second on the first writes after a restart (docs/adr/018-durable-embedded-broker.md)."""
    if isinstance(exc, TimeoutError | OSError | UnknownError):
        return True
    return isinstance(exc, KafkaError) and bool(exc.retriable)


class Delivery(NamedTuple):
    """Where a record landed (a tuple: built for every record a gateway stores)."""

    topic: str
    partition: int
    offset: int


@dataclass
class ProducerConfig:
    bootstrap_servers: str
    idempotence: bool = False
    compression: str | None = "lz4"
    publish_timeout_s: float = 10.0
    linger_ms: int = 2
    max_request_size: int = 1_048_576
    extra: dict[str, Any] | None = None


class EventProducer:
    """One aiokafka producer per process, shared by every publisher in it."""

    def __init__(self, config: ProducerConfig) -> None:
        self.config = config
        self._producer: AIOKafkaProducer | None = None
        self._metrics: dict[str, tuple[Any, Any]] = {}

    def _topic_metrics(self, topic: str) -> tuple[Any, Any]:
        """Per-topic metric children, looked up once (labels() is costly on a hot path)."""
        found = self._metrics.get(topic)
        if found is None:
            found = (metrics.PUBLISHED.labels(topic), metrics.PUBLISH_SECONDS.labels(topic))
            self._metrics[topic] = found
        return found

    async def start(self) -> None:
        compression = self.config.compression
        producer = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap_servers,
            acks="all",
            enable_idempotence=self.config.idempotence,
            compression_type=None if compression in (None, "", "none") else compression,
            linger_ms=self.config.linger_ms,
            max_request_size=self.config.max_request_size,
            request_timeout_ms=int(self.config.publish_timeout_s * 1000),
            partitioner=CachedKeyPartitioner(),
            **(self.config.extra or {}),
        )
        try:
            await asyncio.wait_for(producer.start(), self.config.publish_timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            await producer.stop()
            raise BusUnavailable(
                f"cannot reach Kafka at {self.config.bootstrap_servers}: {exc!r}"
            ) from exc
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def publish(self, topic: str, envelope: Envelope) -> Delivery:
        """Store one event keyed by its station id; raise BusUnavailable if Kafka cannot."""
        return await self.publish_raw(
            topic,
            envelope.station_id.encode(),
            encode(envelope),
            [event_type_header(envelope.type)],
        )

    async def publish_batch(
        self, items: list[tuple[str, Envelope]], timeout_s: float | None = None
    ) -> list[Delivery]:
        """Store several events at once: all are sent, then every acknowledgement awaited.

        Cheaper than gathering `publish` calls (no task per record); raises BusUnavailable
        if any record was not acknowledged within `timeout_s` (default: the publish timeout).
        Each record carries its event type in a header.
        """
        producer = self._producer
        if producer is None:
            raise BusUnavailable("producer is not started")
        started = time.perf_counter()
        topic = items[0][0] if items else ""
        headers = kafka_headers_with_context()  # one trace context for the whole batch
        send = producer.send
        try:
            async with asyncio.timeout(timeout_s or self.config.publish_timeout_s):
                pending = [
                    await send(
                        item_topic,
                        value=encode(envelope),
                        key=envelope.station_id.encode(),
                        headers=[*headers, event_type_header(envelope.type)],
                    )
                    for item_topic, envelope in items
                ]
                deliveries = []
                for (topic, _), future in zip(items, pending, strict=True):
                    metadata = await future
                    deliveries.append(Delivery(topic, metadata.partition, metadata.offset))
        except (KafkaError, OSError, TimeoutError) as exc:
            metrics.PUBLISH_FAILED.labels(topic).inc()
            raise BusUnavailable(
                f"Kafka did not acknowledge a record on {topic}: {exc!r}", is_retriable(exc)
            ) from exc
        elapsed = time.perf_counter() - started
        # One count per topic and one latency per publish, not per record: a gateway's group
        # commit carries tens of records, and per-record metric calls cost as much as murmur2.
        counts: dict[str, int] = {}
        for item_topic, _ in items:
            counts[item_topic] = counts.get(item_topic, 0) + 1
        for item_topic, count in counts.items():
            published, seconds = self._topic_metrics(item_topic)
            published.inc(count)
            seconds.observe(elapsed)
        return deliveries

    async def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Iterable[tuple[str, bytes]] = (),
    ) -> Delivery:
        """Store one record as given (a None value is a tombstone on compacted topics)."""
        producer = self._producer
        if producer is None:
            raise BusUnavailable("producer is not started")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.publish_timeout_s):
                pending = await producer.send(
                    topic, value=value, key=key, headers=kafka_headers_with_context(headers)
                )
                metadata = await pending
        except (KafkaError, OSError, TimeoutError) as exc:
            metrics.PUBLISH_FAILED.labels(topic).inc()
            raise BusUnavailable(
                f"Kafka did not acknowledge a record on {topic}: {exc!r}", is_retriable(exc)
            ) from exc
        published, seconds = self._topic_metrics(topic)
        published.inc()
        seconds.observe(time.perf_counter() - started)
        return Delivery(topic, metadata.partition, metadata.offset)
