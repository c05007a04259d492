"""The outbox: events written in the transaction of the change they report.

A broker outage therefore loses nothing: the row waits until the publisher gets it
acknowledged, and is deleted only then. A crash between the acknowledgement and the delete
publishes the same envelope (same event id) again, which consumers deduplicate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.billing.models import OutboxRow
from chargegrid.platform.bus.envelope import encode


async def enqueue(session: AsyncSession, topic: str, envelope: Envelope, now: datetime) -> None:
    session.add(OutboxRow(topic=topic, envelope=encode(envelope), created_at=now))
    await session.flush()


async def oldest(session: AsyncSession, limit: int) -> list[OutboxRow]:
    """The oldest waiting rows, locked against other replicas' publishers on PostgreSQL."""
    query = select(OutboxRow).order_by(OutboxRow.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list((await session.execute(query)).scalars())


async def remove(session: AsyncSession, ids: list[int]) -> None:
    await session.execute(delete(OutboxRow).where(OutboxRow.id.in_(ids)))


async def waiting(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(OutboxRow))).scalar() or 0)
