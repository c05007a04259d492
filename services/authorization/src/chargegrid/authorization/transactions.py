"""Transactions in progress, as the session service's sessions tell them (session.events.v1).

Each row is written in the consuming handler's own database transaction (one per batch of
events), with the event ids claimed in it, so re-delivered events change nothing. A closed
row is final: the session service never reopens a session, so nothing arriving after its
close brings it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update
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

    async def record(
        self, session: AsyncSession, tx: ActiveTransaction
    ) -> ActiveTransaction | None:
        """Store what a session event says; None when nothing changed (or it was closed)."""
        changed = await self.record_all(session, [tx])
        return changed[0] if changed else None

    async def record_all(
        self, session: AsyncSession, txs: Sequence[ActiveTransaction]
    ) -> list[ActiveTransaction]:
        """Store what a batch of session events says, in order; the changes, in order.

        The rows the batch touches are read in one query and merged in memory event by
        event (as one at a time would), then each row is written once.
        """
        keys = list(dict.fromkeys((tx.station_id, tx.transaction_id) for tx in txs))
        if not keys:
            return []
        query = select(transactions).where(
            tuple_(transactions.c.station_id, transactions.c.transaction_id).in_(keys)
        )
        stored = {
            (r.station_id, r.transaction_id): _from_row(r) for r in await session.execute(query)
        }
        current: dict[tuple[str, str], ActiveTransaction] = dict(stored)
        changed: list[ActiveTransaction] = []
        for tx in txs:
            merged = _merge(current.get((tx.station_id, tx.transaction_id)), tx)
            if merged is not None:
                current[(tx.station_id, tx.transaction_id)] = merged
                changed.append(merged)
        written = {(tx.station_id, tx.transaction_id) for tx in changed}
        new = [_values(current[key]) for key in keys if key in written and key not in stored]
        if new:
            await session.execute(transactions.insert(), new)
        for key in keys:
            if key in written and key in stored:
                await session.execute(
                    update(transactions)
                    .where(
                        transactions.c.station_id == key[0],
                        transactions.c.transaction_id == key[1],
                    )
                    .values(**_values(current[key]))
                )
        return changed


def _merge(current: ActiveTransaction | None, tx: ActiveTransaction) -> ActiveTransaction | None:
    """What the row becomes after `tx`; None when nothing changed (or it was closed)."""
    if current is None:
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
