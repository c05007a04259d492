"""Remember which events were processed, so re-delivered ones change nothing.

Delivery is at least once, so every consumer must tolerate duplicates. For handlers that
write to the service's database, `claim_event` inserts the event id in the same transaction
as the handler's own writes: either both commit or neither does, and a second delivery finds
the id and skips; `claim_events` does the same for a whole batch in one statement.
`ProcessedEvents` stores (in memory or SQL) serve handlers without a transaction of their
own, through `deduplicated`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import ConsumerRecord
from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import metrics

#: Include in a service's metadata (and its first migration) to use the SQL store.
idempotency_metadata = MetaData()
processed_events = Table(
    "processed_events",
    idempotency_metadata,
    Column("consumer", String(128), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)


class ProcessedEvents(Protocol):
    async def seen(self, event_id: str) -> bool: ...

    async def mark(self, event_id: str) -> None: ...


class InMemoryProcessedEvents:
    """The newest `capacity` ids; enough when duplicates arrive close together."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    async def seen(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return True
        return False

    async def mark(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


async def claim_event(
    session: AsyncSession, consumer: str, event_id: str, now: datetime | None = None
) -> bool:
    """Record `event_id` inside the caller's transaction; False if it was already there."""
    values = {"consumer": consumer, "event_id": event_id, "processed_at": now or datetime.now(UTC)}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(processed_events).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0) == 1)


async def claim_events(
    session: AsyncSession, consumer: str, event_ids: Iterable[str], now: datetime | None = None
) -> set[str]:
    """Record every id inside the caller's transaction; return those not claimed before.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING: only the rows this statement inserted
    come back, so an id a concurrent replica claimed first is not returned here.
    """
    at = now or datetime.now(UTC)
    unique = dict.fromkeys(event_ids)
    if not unique:
        return set()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(processed_events).on_conflict_do_nothing().returning(processed_events.c.event_id)
    )
    rows = [{"consumer": consumer, "event_id": event_id, "processed_at": at} for event_id in unique]
    result = await session.execute(statement, rows)
    return set(result.scalars())


class SqlProcessedEvents:
    """Processed ids in the service's database (table `processed_events`)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], consumer: str) -> None:
        self.sessions = sessions
        self.consumer = consumer

    async def seen(self, event_id: str) -> bool:
        query = select(processed_events.c.event_id).where(
            processed_events.c.consumer == self.consumer, processed_events.c.event_id == event_id
        )
        async with self.sessions() as session:
            return (await session.execute(query)).first() is not None

    async def mark(self, event_id: str) -> None:
        async with self.sessions() as session, session.begin():
            await claim_event(session, self.consumer, event_id)


EventHandler = Callable[[Envelope, ConsumerRecord], Awaitable[None]]


def deduplicated(handler: EventHandler, store: ProcessedEvents, name: str) -> EventHandler:
    """Run `handler` once per event id; mark the id only after the handler succeeded."""

    async def handle_once(envelope: Envelope, record: ConsumerRecord) -> None:
        if await store.seen(envelope.event_id):
            metrics.DUPLICATES_SKIPPED.labels(name).inc()
            return
        await handler(envelope, record)
        await store.mark(envelope.event_id)

    return handle_once
