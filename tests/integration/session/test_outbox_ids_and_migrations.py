"""The outbox keeps events until Kafka took them; transaction ids never repeat; the schema
matches the models and downgrades to nothing."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import BusUnavailable, Delivery, EventProducer, ProducerConfig
from chargegrid.platform.db import create_engine
from chargegrid.platform.migrations import downgrade, upgrade
from chargegrid.session.app import MIGRATIONS
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.ids import TransactionIds
from chargegrid.session.models import Base
from chargegrid.session.outbox import OutboxPublisher
from tests.integration.session.builders import FakeClock, ended, started
from tests.integration.session.conftest import Database, feed


class FlakyProducer(EventProducer):
    """Refuses the first `failures` batches, then records what it was given."""

    def __init__(self, failures: int) -> None:
        super().__init__(ProducerConfig("unused:0"))
        self.failures = failures
        self.sent: list[tuple[str, Envelope]] = []

    async def publish_batch(
        self, items: list[tuple[str, Envelope]], timeout_s: float | None = None
    ) -> list[Delivery]:
        if self.failures > 0:
            self.failures -= 1
            raise BusUnavailable("Kafka is down")
        self.sent.extend(items)
        return [Delivery(topic, 0, n) for n, (topic, _) in enumerate(items)]


async def test_events_survive_a_failed_publish_and_go_out_once_when_kafka_is_back(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0), ended(10, 2000))
    producer = FlakyProducer(failures=1)
    publisher = OutboxPublisher(db.sessions, producer, batch_size=10)
    try:
        await publisher.drain_once()
        raise AssertionError("the publish should have failed")
    except BusUnavailable:
        pass
    assert len(await db.outbox()) == 2
    assert await publisher.drain_once() == 2
    assert await publisher.drain_once() == 0
    assert [envelope.type for _, envelope in producer.sent] == ["session.opened", "session.closed"]
    assert {topic for topic, _ in producer.sent} == {"session.events.v1"}
    assert await db.outbox() == []


async def test_the_publisher_task_retries_until_the_events_are_out(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0), ended(10, 2000))
    producer = FlakyProducer(failures=2)
    publisher = OutboxPublisher(db.sessions, producer, poll_interval_s=0.05)
    task = asyncio.create_task(publisher.run())
    try:
        for _ in range(100):
            if len(producer.sent) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert [envelope.type for _, envelope in producer.sent] == ["session.opened", "session.closed"]


async def test_transaction_ids_are_unique_positive_and_fit_an_int32_even_concurrently(
    db: Database, clock: FakeClock
) -> None:
    one, other = TransactionIds(db.sessions), TransactionIds(db.sessions)
    allocated = await asyncio.gather(
        *(ids.allocate("CP-1", 1) for _ in range(20) for ids in (one, other))
    )
    assert len(set(allocated)) == 40
    assert all(0 < n < 2**31 for n in allocated)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migration_builds_the_models_schema_and_downgrades_to_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    tables = {"sessions", "meter_samples", "transaction_id_blocks", "outbox", "processed_events"}
    try:
        await upgrade(engine, MIGRATIONS)
        await upgrade(engine, MIGRATIONS)
        async with engine.connect() as conn:
            found = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            assert found >= tables
            assert await conn.run_sync(_differences) == []
        await downgrade(engine, MIGRATIONS)
        async with engine.connect() as conn:
            left = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert left & tables == set()
    finally:
        await engine.dispose()
