"""CPU per MeterValues event of the session service's consumer, on the embedded broker.

Events go to the real broker first; then the real consumer (the batch consumer of
`session_consumer`, or the per-record consumer with one transaction per event as the
baseline) reads them with the outbox publisher running beside it, and the process's CPU
time (every thread: aiosqlite works in one) is measured from the consumer's start until
every event is claimed in the database. A second round on the same database shows whether
the cost grows with the tables.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import (
    ConsumerConfig,
    EnvelopeFactory,
    EventConsumer,
    EventProducer,
    ProducerConfig,
)
from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.bus.topics import (
    STATION_EVENTS,
    TRANSACTION_EVENTS,
    default_topic_specs,
    ensure_topics,
)
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.migrations import upgrade
from chargegrid.session.app import MIGRATIONS
from chargegrid.session.consumers import session_consumer
from chargegrid.session.handlers import CONSUMER, EVENT_TYPES, SessionEvents
from chargegrid.session.outbox import Outbox, OutboxPublisher

FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}
VARIANTS = ("batched", "per_event_transactions")


def _now() -> datetime:
    return datetime.now(UTC)


def _consumer(
    variant: str, bootstrap: str, events: SessionEvents, producer: EventProducer, group: str
) -> EventConsumer:
    if variant == "batched":
        return session_consumer(bootstrap, events, producer, group, **FAST_GROUP)
    config = ConsumerConfig(
        bootstrap_servers=bootstrap,
        group_id=group,
        topics=[TRANSACTION_EVENTS, STATION_EVENTS],
        event_types=EVENT_TYPES,
        **FAST_GROUP,  # type: ignore[arg-type]
    )
    return EventConsumer(config, events, producer)


async def _claimed(events: SessionEvents) -> int:
    async with events.sessions() as db:
        query = select(func.count()).where(processed_events.c.consumer == CONSUMER)
        return int(await db.scalar(query) or 0)


async def _round(
    variant: str, bootstrap: str, url: str, group: str, expected: int
) -> tuple[float, float]:
    """(CPU seconds, wall seconds) for the consumer to claim `expected` events in total."""
    engine = create_engine(url)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    async with EventProducer(ProducerConfig(bootstrap)) as producer:
        publisher = OutboxPublisher(sessions, producer, poll_interval_s=1.0)
        events = SessionEvents(
            sessions,
            Outbox(EnvelopeFactory("session/bench")),
            _now,
            after_commit=publisher.wake,
        )
        publishing = asyncio.create_task(publisher.run())
        consumer = _consumer(variant, bootstrap, events, producer, group)
        cpu, wall = time.process_time(), time.perf_counter()
        await consumer.start()
        consuming = asyncio.create_task(consumer.run())
        while await _claimed(events) < expected:  # noqa: ASYNC110 - the database is the signal
            await asyncio.sleep(0.1)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await consumer.stop()
        await consuming
        publishing.cancel()
        await asyncio.gather(publishing, return_exceptions=True)
    await engine.dispose()
    return cpu, wall


async def measure(
    databases: dict[str, Callable[[str], Any]],
    rounds: list[list[Envelope]],
) -> dict[str, Any]:
    """Per database kind and variant: ms of CPU per event in each round, events/s."""
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    results: dict[str, Any] = {}
    try:
        bootstrap = broker.bootstrap_servers
        await ensure_topics(bootstrap, default_topic_specs())
        urls = {(kind, v): await make(v) for kind, make in databases.items() for v in VARIANTS}
        groups = {key: f"bench-{uuid.uuid4().hex[:8]}" for key in urls}
        figures: dict[tuple[str, str], list[dict[str, float]]] = {key: [] for key in urls}
        produced = 0
        async with EventProducer(ProducerConfig(bootstrap)) as producer:
            for events in rounds:
                for start in range(0, len(events), 500):
                    chunk = events[start : start + 500]
                    await producer.publish_batch([(TRANSACTION_EVENTS, e) for e in chunk])
                produced += len(events)
                for key, url in urls.items():
                    cpu, wall = await _round(key[1], bootstrap, url, groups[key], produced)
                    figures[key].append(
                        {
                            "cpu_ms_per_event": round(cpu / len(events) * 1000, 3),
                            "events_per_s": round(len(events) / wall),
                        }
                    )
        for (kind, variant), per_round in figures.items():
            results.setdefault(kind, {})[variant] = per_round
        for variants in results.values():
            batched = variants["batched"][-1]["cpu_ms_per_event"]
            single = variants["per_event_transactions"][-1]["cpu_ms_per_event"]
            variants["cpu_per_event_vs_baseline"] = round(single / batched, 1)
    finally:
        await broker.stop()
    return results
