"""1.6 transaction ids come a block per database round trip, and none is handed out twice:
not between replicas, not across a restart, not across the migration (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select, update

from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import FailedPrecondition
from chargegrid.platform.migrations import downgrade, upgrade
from chargegrid.session.app import MIGRATIONS
from chargegrid.session.ids import COUNTER, MAX_TRANSACTION_ID, TransactionIds
from chargegrid.session.models import TransactionIdBlockRow
from tests.integration.session.builders import FakeClock
from tests.integration.session.conftest import Database

#: The per-id table of migrations 0001-0002, as it was.
OLD_IDS = Table(
    "transaction_ids",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", String(64)),
    Column("connector_id", Integer),
    Column("allocated_at", DateTime(timezone=True)),
)


async def counter_next(db: Database) -> int:
    async with db.sessions() as session:
        found = await session.scalar(
            select(TransactionIdBlockRow.next_id).where(TransactionIdBlockRow.counter == COUNTER)
        )
    return int(found or 0)


async def test_two_replicas_allocating_at_once_never_hand_out_the_same_id(db: Database) -> None:
    one = TransactionIds(db.sessions, block_size=7)
    other = TransactionIds(db.sessions, block_size=7)

    allocated = await asyncio.gather(
        *(ids.allocate(f"CP-{n}", 1) for n in range(150) for ids in (one, other))
    )

    assert len(set(allocated)) == 300
    assert all(0 < n < 2**31 for n in allocated)


async def test_a_block_is_one_round_trip_and_concurrent_callers_share_it(db: Database) -> None:
    ids = TransactionIds(db.sessions, block_size=100)

    allocated = await asyncio.gather(*(ids.allocate("CP-1", 1) for _ in range(250)))

    assert sorted(allocated) == list(range(1, 251))
    assert await counter_next(db) == 301  # three blocks reserved, not 250 rows written


async def test_a_restarted_replica_continues_above_every_id_it_handed_out(db: Database) -> None:
    before = TransactionIds(db.sessions, block_size=100)
    first = [await before.allocate("CP-1", 1) for _ in range(5)]

    restarted = TransactionIds(db.sessions, block_size=100)
    after = [await restarted.allocate("CP-1", 1) for _ in range(5)]

    assert min(after) > max(first)
    assert after == list(range(101, 106))  # the rest of the first block is a gap


async def test_ids_past_the_int32_range_are_refused(db: Database) -> None:
    async with db.sessions() as session, session.begin():
        await session.execute(update(TransactionIdBlockRow).values(next_id=MAX_TRANSACTION_ID - 1))
    ids = TransactionIds(db.sessions, block_size=10)

    assert [await ids.allocate("CP-1", 1) for _ in range(2)] == [
        MAX_TRANSACTION_ID - 1,
        MAX_TRANSACTION_ID,
    ]
    with pytest.raises(FailedPrecondition):
        await ids.allocate("CP-1", 1)


async def test_the_counter_starts_above_the_ids_the_old_table_gave_and_a_downgrade_keeps_it(
    database_url: str, clock: FakeClock
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, MIGRATIONS, "0002")
        async with engine.begin() as conn:
            for station in ("CP-1", "CP-2", "CP-3"):
                await conn.execute(
                    insert(OLD_IDS).values(station_id=station, connector_id=1, allocated_at=clock())
                )
        await upgrade(engine, MIGRATIONS)
        ids = TransactionIds(session_factory(engine), block_size=10)
        assert await ids.allocate("CP-1", 1) == 4

        await downgrade(engine, MIGRATIONS, "0002")
        async with engine.begin() as conn:
            result = await conn.execute(
                insert(OLD_IDS)
                .values(station_id="CP-1", connector_id=1, allocated_at=clock())
                .returning(OLD_IDS.c.id)
            )
            assert result.scalar_one() == 14  # above the block the counter gave out
    finally:
        await engine.dispose()
