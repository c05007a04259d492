"""GetStation served in batches: every service asks it for each station it meets.

Session, authorization, billing, firmware, energy and analytics each look a station up (its
site, its connectors) the first time they see it. In a boot storm that is several calls per
booting station at once, each a database session of its own, queueing for the connection
pool in front of the gateway's handshake and boot decisions. `StationLookup` serves every
waiting call with two SELECTs (the stations, their connectors), like `SecurityLookup` does
for the handshake. Nothing is cached: an edit counts from the next call on.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.stations.api.convert import station_to_proto
from chargegrid.stations.batching import Coalescer
from chargegrid.stations.models import StationRow
from chargegrid.stations.store.stations import connectors_of


class StationLookup:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], default_heartbeat_interval_s: int
    ) -> None:
        self.sessions = sessions
        self.default_heartbeat_interval_s = default_heartbeat_interval_s
        self._calls: Coalescer[str, pb.Station | None] = Coalescer(self._lookup)

    async def __call__(self, station_id: str) -> pb.Station | None:
        """The station as GetStation answers it, or None when it does not exist."""
        return await self._calls(station_id)

    async def _lookup(self, station_ids: Sequence[str]) -> list[pb.Station | None]:
        wanted = sorted(set(station_ids))
        async with self.sessions() as session:
            query = select(StationRow).where(StationRow.id.in_(wanted))
            rows = (await session.scalars(query)).all()
            connectors = await connectors_of(session, [row.id for row in rows])
            found = {
                row.id: station_to_proto(
                    row, connectors.get(row.id, []), self.default_heartbeat_interval_s
                )
                for row in rows
            }
        return [found.get(station_id) for station_id in station_ids]
