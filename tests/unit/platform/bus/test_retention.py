"""Processed event ids are forgotten after the retention, never before."""

from datetime import UTC, datetime, timedelta

from chargegrid.platform.bus import claim_event
from chargegrid.platform.bus.retention import DEFAULT_RETENTION, prune_processed_events
from chargegrid.platform.db import session_factory
from tests.unit.platform.bus.test_idempotency import _engine

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_only_ids_older_than_the_retention_are_pruned(database_url: str) -> None:
    engine = await _engine(database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await claim_event(session, "billing", "old", NOW - timedelta(days=40))
            await claim_event(session, "session", "old", NOW - timedelta(days=36))
            await claim_event(session, "billing", "recent", NOW - timedelta(days=1))
        assert await prune_processed_events(sessions, NOW - DEFAULT_RETENTION) == 2
        assert await prune_processed_events(sessions, NOW - DEFAULT_RETENTION) == 0
        async with sessions() as session, session.begin():
            assert await claim_event(session, "billing", "recent", NOW) is False
            assert await claim_event(session, "billing", "old", NOW) is True
    finally:
        await engine.dispose()
