"""Transactions in progress, as the session service's sessions tell them (session.events.v1).

Each row is written in the consuming handler's own database transaction, with the event id
claimed in it, so re-delivered events change nothing. A closed row is final: the session
service never reopens a session, so nothing arriving after its close brings it back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.authorization.domain import ActiveTransaction
from chargegrid.authorization.models import transactions


def _from_row(row: object) -> ActiveTransaction:
    return ActiveTransaction(
        station_id=row.station_id,  # type: ignore[attr-defined]
        transaction_id=row.transaction_id,  # type: ignore[attr-defined]
        id_token=row.id_token,  # type: ignore[attr-defined]
        ended=row.ended,  # type: ignore[attr-defined]
        updated_at=row.updated_at,  # type: ignore[attr-defined]
        evse_id=row.evse_id,  # type: ignore[attr-defined]
    )


class TransactionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def load_active(self) -> list[ActiveTransaction]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(transactions).where(transactions.c.ended.is_(False))
            )
            return [_from_row(row) for row in rows]

    async def changed_since(self, since: datetime) -> list[ActiveTransaction]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(transactions).where(transactions.c.updated_at >= since)
            )
            return [_from_row(row) for row in rows]

    async def _get(
        self, session: AsyncSession, station_id: str, transaction_id: str
    ) -> ActiveTransaction | None:
        row = (
            await session.execute(
                select(transactions).where(
                    transactions.c.station_id == station_id,
                    transactions.c.transaction_id == transaction_id,
                )
            )
        ).first()
        return _from_row(row) if row else None

    async def record(
        self, session: AsyncSession, tx: ActiveTransaction
    ) -> ActiveTransaction | None:
        """Store what a session event says; None when nothing changed (or it was closed)."""
        current = await self._get(session, tx.station_id, tx.transaction_id)
        if current is None:
            await session.execute(transactions.insert().values(**_values(tx)))
            return tx
        if current.ended:
            return None
        merged = ActiveTransaction(
            tx.station_id,
            tx.transaction_id,
            tx.id_token or current.id_token,
            ended=tx.ended,
            updated_at=tx.updated_at,
            evse_id=tx.evse_id or current.evse_id,
        )
        if (merged.id_token, merged.ended, merged.evse_id) == (
            current.id_token,
            current.ended,
            current.evse_id,
        ):
            return None
        await session.execute(
            update(transactions)
            .where(
                transactions.c.station_id == tx.station_id,
                transactions.c.transaction_id == tx.transaction_id,
            )
            .values(**_values(merged))
        )
        return merged


def _values(tx: ActiveTransaction) -> dict[str, object]:
    return {
        "station_id": tx.station_id,
        "transaction_id": tx.transaction_id,
        "id_token": tx.id_token,
        "ended": tx.ended,
        "updated_at": tx.updated_at,
        "evse_id": tx.evse_id,
    }
