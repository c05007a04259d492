"""1.6 transaction ids from the database, unique across the network and every replica.

The gateway waits for an id on every StartTransaction, so one database write per id would
put a write transaction (and, on SQLite, the one writer lock) on its path. Instead a replica
reserves a block of ids in one statement, advancing the database's one counter row
(`transaction_id_blocks`) under its row lock, and hands the block out from memory. Two
replicas get disjoint blocks; a restart throws away what was left of its block and reserves
the next, so an id is never handed out twice, and the gaps are harmless (1.6 asks only for
unique ids). On SQLite the reservation is an urgent writer: it goes ahead of the consumer's
batches waiting for the lock.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.grpc import FailedPrecondition
from chargegrid.platform.writer_gate import one_writer
from chargegrid.session.models import TransactionIdBlockRow

#: 1.6 transactionId is a signed 32-bit integer.
MAX_TRANSACTION_ID = 2**31 - 1
#: The counter row of 1.6 transaction ids (migration 0003).
COUNTER = "ocpp16"
DEFAULT_BLOCK_SIZE = 100


class TransactionIds:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, block_size: int = DEFAULT_BLOCK_SIZE
    ) -> None:
        if block_size < 1:
            raise ValueError(f"block_size must be at least 1, got {block_size}")
        self.sessions = sessions
        self.block_size = block_size
        self._next = self._end = 0  # the ids [next, end) reserved and not yet handed out
        self._reserving = asyncio.Lock()

    async def allocate(self, station_id: str, connector_id: int) -> int:
        """A new id (the station and connector do not decide it: ids are network-wide)."""
        while self._next >= self._end:
            async with self._reserving:  # one reservation at a time; the others use it
                if self._next >= self._end:
                    self._next, self._end = await self._reserve()
        allocated = self._next
        self._next += 1
        if allocated > MAX_TRANSACTION_ID:
            raise FailedPrecondition("the 1.6 transaction id space is exhausted")
        return allocated

    async def _reserve(self) -> tuple[int, int]:
        """The next block [first, end) from the counter row, in one round trip."""
        counter = TransactionIdBlockRow.next_id
        statement = (
            update(TransactionIdBlockRow)
            .where(TransactionIdBlockRow.counter == COUNTER)
            .values(next_id=counter + self.block_size)
            .returning(counter)
        )
        async with one_writer(self.sessions, urgent=True), self.sessions() as db, db.begin():
            end = int((await db.execute(statement)).scalar_one())
        return end - self.block_size, end
