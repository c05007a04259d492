"""Publishes the outbox: cdr.created events reach Kafka after their CDR committed.

Woken right after a CDR commits (low latency) and every `poll_interval_s` anyway (anything a
crash or an outage left behind). A row is deleted only after Kafka acknowledged it; while
the broker is down rows wait and the loop backs off. On PostgreSQL the rows being published
are locked (SKIP LOCKED), so several replicas publish without stepping on each other.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.billing.store import outbox
from chargegrid.platform.bus import EventProducer, decode
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


class OutboxPublisher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: EventProducer,
        *,
        poll_interval_s: float = 1.0,
        batch_size: int = 200,
        max_backoff_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.producer = producer
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self.max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def publish_once(self) -> int:
        """Publish one batch; return how many rows went out (BusUnavailable if none could)."""
        async with self.sessions() as session, session.begin():
            rows = await outbox.oldest(session, self.batch_size)
            if not rows:
                return 0
            await self.producer.publish_batch([(row.topic, decode(row.envelope)) for row in rows])
            await outbox.remove(session, [row.id for row in rows])
        return len(rows)

    async def run(self) -> None:
        backoff = self.poll_interval_s
        while not self._stopping:
            # Cleared before reading, so a CDR committed meanwhile wakes the next round.
            self._wake.clear()
            try:
                sent = await self.publish_once()
                backoff = self.poll_interval_s
            except Exception as exc:  # broker or database down: wait, nothing is lost
                log.warning("outbox not published yet", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            if sent == self.batch_size:
                continue  # more are waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)

    async def stop(self) -> None:
        """Leave the loop; what is still in the outbox goes out at the next start."""
        self._stopping = True
        self._wake.set()
