"""Transactional outbox: session events are decided with the state change, published after.

A handler writes the event's complete envelope (id included) into `outbox` in the same
transaction as the session change (queued by `add`, inserted by `flush` in one executemany
for the whole batch, in the order decided), so "closed exactly once" is settled by the database, not
by whether Kafka happened to be up. `OutboxPublisher` drains the table in id order and
deletes rows only after Kafka acknowledged them; if publishing fails the rows stay and are
sent again later with the same event ids, so downstream dedupe by event id (or session id)
makes the rare re-send after a crash harmless. On PostgreSQL an advisory lock lets one
replica drain at a time, which keeps each station's events in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, decode, encode
from chargegrid.platform.bus.topics import SESSION_EVENTS
from chargegrid.platform.logging import get_logger
from chargegrid.platform.writer_gate import one_writer
from chargegrid.session.convert import session_event, session_message
from chargegrid.session.domain.model import SessionState
from chargegrid.session.models import OutboxRow

log = get_logger(__name__)
#: Arbitrary, fixed: the advisory lock id of the outbox drain on PostgreSQL.
DRAIN_LOCK_ID = 0x5E55_0B0C
#: Where `Outbox.add` queues the rows of the transaction it was given (AsyncSession.info).
PENDING = "chargegrid.session.outbox.pending"
OUTBOX = cast(Table, OutboxRow.__table__)


class Outbox:
    """Writes session events inside the caller's transaction."""

    def __init__(self, envelopes: EnvelopeFactory, topic: str = SESSION_EVENTS) -> None:
        self.envelopes = envelopes
        self.topic = topic

    def add(self, db: AsyncSession, kind: str, state: SessionState, now: datetime) -> Envelope:
        """Queue the event in `db`'s transaction; `flush` before commit inserts it."""
        envelope = self.envelopes.wrap(
            f"session.{kind}",
            state.station_id,
            session_event(kind, session_message(state)),
            occurred_at=now,
        )
        row = {"topic": self.topic, "envelope": encode(envelope), "created_at": now}
        db.info.setdefault(PENDING, []).append(row)
        return envelope

    @staticmethod
    async def flush(db: AsyncSession) -> None:
        """Insert the rows queued in `db` in one executemany, in the order they were added
        (the ids, and so the publishing order, follow it)."""
        rows: list[dict[str, Any]] = db.info.pop(PENDING, [])
        if rows:
            await db.execute(insert(OUTBOX), rows)


class OutboxPublisher:
    """Drains the outbox to Kafka; woken after commits, polls for leftovers."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: EventProducer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def drain_once(self) -> int:
        """Publish one batch; return how many rows went out (0 if none or locked)."""
        async with self.sessions() as db:
            if db.get_bind().dialect.name == "postgresql":
                return await self._drain_locked(db)
            return await self._drain_plain(db)

    async def _drain_locked(self, db: AsyncSession) -> int:
        async with db.begin():
            if not await db.scalar(select(func.pg_try_advisory_xact_lock(DRAIN_LOCK_ID))):
                return 0
            rows = await self._batch(db)
            if rows:
                await self._publish(rows)
                await db.execute(delete(OutboxRow).where(OutboxRow.id.in_([r.id for r in rows])))
        return len(rows)

    async def _drain_plain(self, db: AsyncSession) -> int:
        # SQLite: a read snapshot held across the publish could not be upgraded to a write
        # once a handler committed, so read, publish and delete in separate transactions.
        async with db.begin():
            rows = await self._batch(db)
        if rows:
            await self._publish(rows)
            async with one_writer(self.sessions), db.begin():
                await db.execute(delete(OutboxRow).where(OutboxRow.id.in_([r.id for r in rows])))
        return len(rows)

    async def _batch(self, db: AsyncSession) -> list[OutboxRow]:
        query = select(OutboxRow).order_by(OutboxRow.id).limit(self.batch_size)
        return list((await db.execute(query)).scalars())

    async def _publish(self, rows: list[OutboxRow]) -> None:
        await self.producer.publish_batch([(row.topic, decode(row.envelope)) for row in rows])
        self.published += len(rows)

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                sent = await self.drain_once()
            except Exception as exc:  # Kafka or the database away: keep the rows, retry
                log.warning("outbox publish failed", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            backoff = 0.2
            if sent >= self.batch_size:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
            self._wake.clear()
