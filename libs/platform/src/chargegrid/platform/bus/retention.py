"""Forget processed event ids once the broker can no longer re-deliver their events.

`claim_event` keeps one row per handled event. Topics consumed that way keep events for 30
days (the chart's default retention), so an id older than the retention plus a margin can
never come back, even when an operator replays a whole topic. Pruning keeps the table, and
its primary-key index that every claim probes, at about a month of traffic instead of all
of it. Deleting is idempotent, so every replica may run it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
#: Longest topic retention of consumed topics (30 days) plus a margin.
DEFAULT_RETENTION = timedelta(days=35)


async def prune_processed_events(
    sessions: async_sessionmaker[AsyncSession], older_than: datetime
) -> int:
    """Delete ids processed before `older_than`; how many. Run hourly, each pass removes
    about an hour of traffic."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(processed_events).where(processed_events.c.processed_at < older_than)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def run_pruner(
    sessions: async_sessionmaker[AsyncSession],
    retention: timedelta = DEFAULT_RETENTION,
    every_s: float = 3600.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Prune now and then every `every_s` until cancelled; a failed pass is retried later."""
    while True:
        try:
            removed = await prune_processed_events(sessions, clock() - retention)
            if removed:
                log.info("processed event ids pruned", removed=removed)
        except Exception:
            log.exception("pruning processed event ids failed")
        await asyncio.sleep(every_s)
