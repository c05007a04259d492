"""WatchStatus: this replica's live feed, after an optional snapshot from the database.

The subscription is opened before the snapshot is read, so a change that happens while the
snapshot is taken is sent (perhaps twice) rather than lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.api.convert import connector_update, presence_update
from chargegrid.stations.store.sites import get_site
from chargegrid.stations.store.stations import connectors_of, get_station, stations_matching


class WatchApi(ApiBase):
    async def WatchStatus(
        self, request: pb.WatchStatusRequest, context: Context
    ) -> AsyncIterator[pb.StatusUpdate]:
        site_id = check.optional_site_id(request.site_id, "site_id")
        station_id = check.optional_station_id(request.station_id, "station_id")
        async with self.deps.sessions() as session:
            if site_id:
                await get_site(session, site_id)
            if station_id:
                await get_station(session, station_id)
        subscription = self.deps.hub.subscribe(site_id, station_id)
        try:
            if request.snapshot:
                for update in await self._snapshot(site_id, station_id):
                    yield update
            while True:
                yield await subscription.next()
        finally:
            self.deps.hub.unsubscribe(subscription)

    async def _snapshot(self, site_id: str, station_id: str) -> list[pb.StatusUpdate]:
        async with self.deps.sessions() as session:
            stations = await stations_matching(session, site_id=site_id, station_id=station_id)
            connectors = await connectors_of(session, [s.id for s in stations])
        updates: list[pb.StatusUpdate] = []
        for station in stations:
            rows = connectors.get(station.id, [])
            updates += [connector_update(station, row) for row in rows]
            if not rows:
                updates.append(presence_update(station, station.last_seen))
        return updates
