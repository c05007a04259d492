"""Live status for WatchStatus streams, on every replica.

The registry consumer group splits partitions between replicas, so no replica sees every
event. Each replica therefore runs its own non-committing, group-less consumer of
station.events.v1 from the latest offset (`WatchFeed`), turns connection and status events
into `StatusUpdate`s and fans them out to its own watchers (`StatusHub`). A watcher that
cannot keep up is cut off instead of slowing the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.bus.envelope import UndecodableEvent, decode, unpack
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.platform.grpc.errors import DomainError
from chargegrid.platform.logging import get_logger
from chargegrid.stations.models import StationRow
from chargegrid.stations.store.presence import REPLACED_CLOSE_CODE

log = get_logger(__name__)


class WatcherTooSlow(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


@dataclass(eq=False)
class Subscription:
    site_id: str
    station_id: str
    queue: asyncio.Queue[pb.StatusUpdate] = field(
        default_factory=lambda: asyncio.Queue(maxsize=10_000)
    )
    overflowed: bool = False

    def wants(self, update: pb.StatusUpdate) -> bool:
        if self.station_id and update.station_id != self.station_id:
            return False
        return not self.site_id or update.site_id == self.site_id

    async def next(self) -> pb.StatusUpdate:
        if self.overflowed:
            raise WatcherTooSlow("the watcher fell too far behind; watch again with a snapshot")
        update = await self.queue.get()
        if self.overflowed:
            raise WatcherTooSlow("the watcher fell too far behind; watch again with a snapshot")
        return update


class StatusHub:
    """This replica's watchers, each with a bounded queue."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, site_id: str = "", station_id: str = "") -> Subscription:
        subscription = Subscription(site_id, station_id)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, update: pb.StatusUpdate) -> None:
        for subscription in list(self._subscriptions):
            if not subscription.wants(update):
                continue
            try:
                subscription.queue.put_nowait(update)
            except asyncio.QueueFull:
                subscription.overflowed = True
                with contextlib.suppress(asyncio.QueueEmpty):
                    subscription.queue.get_nowait()  # make room to wake the reader
                subscription.queue.put_nowait(update)
                self.unsubscribe(subscription)

    def __len__(self) -> int:
        return len(self._subscriptions)


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

    def __init__(self, site_of: SiteLookup) -> None:
        self.site_of = site_of
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
        update.occurred_at.CopyFrom(envelope.occurred_at)
        update.site_id = await self.site_of(station_id)
        return update


class WatchFeed:
    """A group-less consumer from the latest offset that feeds `hub`; commits nothing."""

    def __init__(
        self,
        bootstrap_servers: str,
        hub: StatusHub,
        translate: UpdateTranslator,
        **client: Any,
    ) -> None:
        self.hub = hub
        self.translate = translate
        self._consumer = AIOKafkaConsumer(
            STATION_EVENTS,
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            **client,
        )
        self._started_ms = 0

    async def start(self) -> None:
        await self._consumer.start()
        # Resolve positions now, so everything published after start() is seen.
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)
        # The embedded broker can misreport end offsets: older records are dropped by time.
        self._started_ms = int(time.time() * 1000) - 1000

    async def run(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=500, max_records=500)
            for records in batch.values():
                for record in records:
                    if record.timestamp is not None and record.timestamp < self._started_ms:
                        continue
                    await self._feed(record.value)

    async def _feed(self, raw: bytes | None) -> None:
        try:
            update = await self.translate(decode(raw))
        except UndecodableEvent:
            return
        except Exception as exc:  # one odd event must not stop every watcher's stream
            log.warning("watch feed skipped an event", error=repr(exc))
            return
        if update is not None:
            self.hub.publish(update)

    async def stop(self) -> None:
        await self._consumer.stop()
