"""Live session changes for WatchSessions streams, on every replica.

Session events are decided by whichever replica owns a station's partition, so no replica
sees every change first-hand. Each replica therefore runs its own non-committing consumer of
session.events.v1 from the latest offset (`WatchFeed`; group-less, so nothing is left behind
in Kafka when a pod goes away) and fans the changes out to its own watchers (`SessionHub`).
A watcher that cannot keep up is cut off instead of slowing the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.platform.bus.envelope import UndecodableEvent, decode, unpack
from chargegrid.platform.bus.topics import SESSION_EVENTS
from chargegrid.platform.grpc.errors import DomainError
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
PAYLOADS: dict[str, Any] = {
    "session.opened": pb.SessionOpened,
    "session.updated": pb.SessionUpdated,
    "session.closed": pb.SessionClosed,
}


class WatcherTooSlow(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


def change_of(envelope: Envelope) -> pb.SessionChange | None:
    """The SessionChange a session event announces; None for other types."""
    payload_type = PAYLOADS.get(envelope.type)
    if payload_type is None:
        return None
    payload = unpack(envelope, payload_type)
    return pb.SessionChange(kind=envelope.type.removeprefix("session."), session=payload.session)


@dataclass(eq=False)
class Subscription:
    station_id: str
    site_id: str
    queue: asyncio.Queue[pb.SessionChange] = field(
        default_factory=lambda: asyncio.Queue(maxsize=10_000)
    )
    overflowed: bool = False

    def wants(self, session: pb.Session) -> bool:
        if self.station_id and session.station_id != self.station_id:
            return False
        return not self.site_id or session.site_id == self.site_id

    async def next(self) -> pb.SessionChange:
        if self.overflowed:
            raise WatcherTooSlow("the watcher fell too far behind; watch again with a snapshot")
        change = await self.queue.get()
        if self.overflowed:
            raise WatcherTooSlow("the watcher fell too far behind; watch again with a snapshot")
        return change


class SessionHub:
    """This replica's watchers, each with a bounded queue."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def subscribe(self, station_id: str = "", site_id: str = "") -> Subscription:
        subscription = Subscription(station_id, site_id)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, change: pb.SessionChange) -> None:
        for subscription in list(self._subscriptions):
            if not subscription.wants(change.session):
                continue
            try:
                subscription.queue.put_nowait(change)
            except asyncio.QueueFull:
                subscription.overflowed = True
                with contextlib.suppress(asyncio.QueueEmpty):
                    subscription.queue.get_nowait()  # make room to wake the reader
                subscription.queue.put_nowait(change)
                self.unsubscribe(subscription)

    def __len__(self) -> int:
        return len(self._subscriptions)


class WatchFeed:
    """A group-less consumer of session.events.v1 from the latest offset; commits nothing."""

    def __init__(self, bootstrap_servers: str, hub: SessionHub, **client: Any) -> None:
        self.hub = hub
        self._consumer = AIOKafkaConsumer(
            SESSION_EVENTS,
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            **client,
        )
        self._started_ms = 0

    async def start(self) -> None:
        await self._consumer.start()
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
                    self._feed(record.value)

    def _feed(self, raw: bytes | None) -> None:
        try:
            change = change_of(decode(raw))
        except UndecodableEvent:
            return
        if change is not None:
            self.hub.publish(change)

    async def stop(self) -> None:
        await self._consumer.stop()
