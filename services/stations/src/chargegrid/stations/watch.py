"""Live status for WatchStatus streams, on every replica.

The registry consumer group splits partitions between replicas, so no replica sees every
event. Each replica therefore runs its own non-committing, group-less consumer of
station.events.v1 from the latest offset (`WatchFeed`), turns connection and status events
into `StatusUpdate`s and fans them out to its own watchers (`StatusHub`). A watcher that
cannot keep up is cut off instead of slowing the others down.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.bus.envelope import unpack
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.platform.live import Hub, LiveFeed, Subscription, matches
from chargegrid.platform.logging import get_logger
from chargegrid.stations.models import StationRow
from chargegrid.stations.store.presence import REPLACED_CLOSE_CODE

log = get_logger(__name__)


class StatusHub(Hub[pb.StatusUpdate]):
    """This replica's WatchStatus callers."""

    def subscribe(self, site_id: str = "", station_id: str = "") -> Subscription[pb.StatusUpdate]:
        return self.add(lambda u: matches(u.station_id, u.site_id, station_id, site_id))


SiteLookup = Callable[[str], Awaitable[str]]


class SiteCache:
    """Station -> site id for filtering watchers, read from the database and kept briefly."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.ttl_s = ttl_s
        self.clock = clock
        self._known: dict[str, tuple[str, float]] = {}

    async def __call__(self, station_id: str) -> str:
        found = self._known.get(station_id)
        if found is not None and self.clock() - found[1] < self.ttl_s:
            return found[0]
        async with self.sessions() as session:
            site = await session.scalar(
                select(StationRow.site_id).where(StationRow.id == station_id)
            )
        self._known[station_id] = (site or "", self.clock())
        return site or ""


class UpdateTranslator:
    """Station events -> StatusUpdates, applying the same presence rules as the registry."""

    def __init__(
        self, site_of: SiteLookup, anyone_watching: Callable[[], bool] = lambda: True
    ) -> None:
        self.site_of = site_of
        #: With nobody watching, only the pods are tracked: no update is built, and no site
        #: looked up (a boot storm's connects would each cost a query).
        self.anyone_watching = anyone_watching
        self._pods: dict[str, str] = {}

    async def __call__(self, envelope: Envelope) -> pb.StatusUpdate | None:
        station_id = envelope.station_id
        update = pb.StatusUpdate(station_id=station_id)
        if envelope.type == "station.connected":
            self._pods[station_id] = unpack(envelope, ev.StationConnected).gateway_pod
            update.kind, update.online = "online", True
        elif envelope.type == "station.disconnected":
            event = unpack(envelope, ev.StationDisconnected)
            holder = self._pods.get(station_id, event.gateway_pod)
            if event.close_code == REPLACED_CLOSE_CODE or holder != event.gateway_pod:
                return None
            self._pods.pop(station_id, None)
            update.kind, update.online = "offline", False
        elif envelope.type == "station.status_changed":
            status = unpack(envelope, ev.StatusChanged)
            if status.evse_id <= 0 or status.connector_id <= 0:
                return None
            update.kind, update.online = "status", True
            update.evse_id, update.connector_id = status.evse_id, status.connector_id
            update.status, update.error_code = status.status, status.error_code
        else:
            return None
        if not self.anyone_watching():
            return None
        update.occurred_at.CopyFrom(envelope.occurred_at)
        update.site_id = await self.site_of(station_id)
        return update


#: What `UpdateTranslator` turns into updates; heartbeats and the rest are skipped by header.
WATCHED = frozenset({"station.connected", "station.disconnected", "station.status_changed"})


def WatchFeed(
    bootstrap_servers: str, hub: StatusHub, translate: UpdateTranslator, **client: Any
) -> LiveFeed[pb.StatusUpdate]:
    """This replica's group-less feed of station.events.v1 into `hub`."""
    return LiveFeed(bootstrap_servers, STATION_EVENTS, hub, translate, WATCHED, **client)
