"""1.6 transaction ids from the database, unique across the network and every replica.

Each allocation inserts a row and takes the id the database generated (an autoincrement
on SQLite, a sequence on PostgreSQL): no replica keeps a counter, so replicas can come and
go freely. SQLite's AUTOINCREMENT never reuses an id, PostgreSQL's sequence never hands one
out twice, even when the inserting transaction rolls back.
"""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.grpc import FailedPrecondition
from chargegrid.session.clock import Clock
from chargegrid.session.models import TransactionIdRow

#: 1.6 transactionId is a signed 32-bit integer.
MAX_TRANSACTION_ID = 2**31 - 1


class TransactionIds:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def allocate(self, station_id: str, connector_id: int) -> int:
        statement = (
            insert(TransactionIdRow)
            .values(station_id=station_id, connector_id=connector_id, allocated_at=self.clock())
            .returning(TransactionIdRow.id)
        )
        async with self.sessions() as db, db.begin():
            allocated = int((await db.execute(statement)).scalar_one())
        if allocated > MAX_TRANSACTION_ID:
            raise FailedPrecondition("the 1.6 transaction id space is exhausted")
        return allocated
