"""The same 1.6 transaction id for a retried StartTransaction.

The gateway stores a StartTransaction's event before it answers; when the answer is an error
(the broker restarting, a timeout) the station sends the same StartTransaction again. A new
id for the retry would leave the first, stored attempt as a phantom session that is closed
interrupted and billed at 0 Wh. So an attempt (station, connector, id tag, timestamp, meter
start) gets the id already allocated to it: from this replica's memory of recent attempts,
or else from the session its stored event opened (after a restart of this service, or on
another replica), and only then a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.recent import RecentMap
from chargegrid.session.ids import TransactionIds
from chargegrid.session.models import SessionRow

#: A timestamp survives the event and the database to the microsecond; allow for rounding.
SAME_START = timedelta(milliseconds=1)


@dataclass(frozen=True)
class StartAttempt:
    station_id: str
    connector_id: int
    id_tag: str
    started_at: datetime
    meter_start_wh: float


class StartIds:
    def __init__(
        self,
        ids: TransactionIds,
        sessions: async_sessionmaker[AsyncSession],
        recent: RecentMap[StartAttempt, int] | None = None,
    ) -> None:
        self.ids = ids
        self.sessions = sessions
        self.recent: RecentMap[StartAttempt, int] = recent or RecentMap()

    async def allocate(
        self, station_id: str, connector_id: int, attempt: StartAttempt | None
    ) -> int:
        if attempt is None:
            return await self.ids.allocate(station_id, connector_id)
        known = self.recent.get(attempt)
        if known is None:
            known = await self._stored(attempt)
        if known is None:
            known = await self.ids.allocate(station_id, connector_id)
        self.recent.remember(attempt, known)
        return known

    async def _stored(self, attempt: StartAttempt) -> int | None:
        """The transaction id of a session its first attempt already opened, if any."""
        query = (
            select(SessionRow.transaction_id)
            .where(
                SessionRow.station_id == attempt.station_id,
                SessionRow.connector_id == attempt.connector_id,
                SessionRow.id_token == attempt.id_tag,
                SessionRow.meter_start_wh == attempt.meter_start_wh,
                SessionRow.started_at >= attempt.started_at - SAME_START,
                SessionRow.started_at <= attempt.started_at + SAME_START,
            )
            .limit(5)
        )
        async with self.sessions() as db:
            found = (await db.execute(query)).scalars().all()
        for transaction_id in found:
            if transaction_id.isdigit():
                return int(transaction_id)
        return None
