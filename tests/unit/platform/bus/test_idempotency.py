"""Processed-event stores: the same event id is applied once, in memory and in SQL."""

from sqlalchemy.ext.asyncio import AsyncEngine

from chargegrid.platform.bus import (
    InMemoryProcessedEvents,
    SqlProcessedEvents,
    claim_event,
    claim_events,
)
from chargegrid.platform.bus.idempotency import idempotency_metadata
from chargegrid.platform.db import create_engine, session_factory


async def test_the_memory_store_forgets_the_oldest_ids_beyond_its_capacity() -> None:
    store = InMemoryProcessedEvents(capacity=2)
    for event_id in ("a", "b", "c"):
        await store.mark(event_id)
    assert not await store.seen("a")
    assert await store.seen("b")
    assert await store.seen("c")


async def _engine(url: str) -> AsyncEngine:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(idempotency_metadata.create_all)
    return engine


async def test_an_event_can_be_claimed_once_per_consumer(database_url: str) -> None:
    engine = await _engine(database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            assert await claim_event(session, "billing", "evt-1") is True
        async with sessions() as session, session.begin():
            assert await claim_event(session, "billing", "evt-1") is False
            assert await claim_event(session, "analytics", "evt-1") is True
    finally:
        await engine.dispose()


async def test_a_rolled_back_claim_leaves_the_event_unprocessed(database_url: str) -> None:
    engine = await _engine(database_url)
    sessions = session_factory(engine)
    store = SqlProcessedEvents(sessions, "session")
    try:
        async with sessions() as session:
            await claim_event(session, "session", "evt-2")
            await session.rollback()  # the handler's own writes failed
        assert not await store.seen("evt-2")
        await store.mark("evt-2")
        await store.mark("evt-2")
        assert await store.seen("evt-2")
    finally:
        await engine.dispose()


async def test_a_batch_claims_in_one_go_only_the_ids_not_claimed_before(database_url: str) -> None:
    engine = await _engine(database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            assert await claim_event(session, "session", "evt-old") is True
        async with sessions() as session, session.begin():
            fresh = await claim_events(session, "session", ["evt-a", "evt-old", "evt-a", "evt-b"])
        assert fresh == {"evt-a", "evt-b"}
        async with sessions() as session, session.begin():
            assert await claim_events(session, "session", ["evt-b", "evt-c"]) == {"evt-c"}
            assert await claim_events(session, "session", []) == set()
    finally:
        await engine.dispose()
