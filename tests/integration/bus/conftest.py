"""Helpers for bus tests: fresh topics per test and consumers tuned for quick group joins."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1.events_pb2 import StatusChanged
from chargegrid.platform.bus import (
    BatchConsumer,
    BatchHandler,
    ConsumerConfig,
    EnvelopeFactory,
    EventConsumer,
    EventProducer,
    Handler,
    ProducerConfig,
    TopicSpec,
    dlq_topic,
    ensure_topics,
)


@dataclass
class BusKit:
    bootstrap: str
    topic: str
    producer: EventProducer
    factory: EnvelopeFactory

    def an_event(self, station_id: str = "CP-1", connector_id: int = 1) -> Envelope:
        return self.factory.wrap(
            "station.status_changed", station_id, StatusChanged(connector_id=connector_id)
        )

    def consumer(self, handler: Handler, group: str, **overrides: object) -> EventConsumer:
        return EventConsumer(self.config(group, **overrides), handler, self.producer)

    def batch_consumer(
        self, handler: BatchHandler, group: str, **overrides: object
    ) -> BatchConsumer:
        return BatchConsumer(self.config(group, **overrides), handler, self.producer)

    def config(self, group: str, **overrides: object) -> ConsumerConfig:
        config = ConsumerConfig(
            bootstrap_servers=self.bootstrap,
            group_id=group,
            topics=[self.topic],
            first_backoff_s=0.01,
            max_backoff_s=0.05,
            session_timeout_ms=2000,
            heartbeat_interval_ms=300,
            poll_timeout_ms=100,
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        return config


@pytest.fixture
async def bus(kafka_bootstrap: str) -> AsyncIterator[BusKit]:
    topic = f"test.{uuid.uuid4().hex[:10]}.v1"
    await ensure_topics(
        kafka_bootstrap, [TopicSpec(topic, partitions=2), TopicSpec(dlq_topic(topic), 2)]
    )
    producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=5))
    await producer.start()
    yield BusKit(kafka_bootstrap, topic, producer, EnvelopeFactory(source="tests"))
    await producer.stop()


async def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll `condition` until true; fail the test with a clear message on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.02)


async def run_in_background(consumer: EventConsumer) -> asyncio.Task[None]:
    await consumer.start()
    return asyncio.create_task(consumer.run())


Waiter = Callable[[Callable[[], bool]], Awaitable[None]]
