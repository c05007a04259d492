"""Live streams for gRPC watch calls (WatchStatus, WatchSessions, ...), on every replica.

A consumer group splits partitions between replicas, so no replica sees every event. Each
replica therefore runs its own group-less, non-committing consumer of the topic from the
latest offset (`LiveFeed`), translates events into the items its watchers want, and fans them
out (`Hub`), each watcher with a bounded queue: one that cannot keep up is cut off with
RESOURCE_EXHAUSTED instead of slowing the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import grpc
from aiokafka import AIOKafkaConsumer

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus.envelope import UndecodableEvent, decode
from chargegrid.platform.bus.headers import header_event_type
from chargegrid.platform.grpc.errors import DomainError
from chargegrid.platform.logging import get_logger

T = TypeVar("T")
log = get_logger(__name__)
QUEUE_SIZE = 10_000


class WatcherTooSlow(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


def _too_slow() -> WatcherTooSlow:
    return WatcherTooSlow("the watcher fell too far behind; watch again with a snapshot")


@dataclass(eq=False)
class Subscription(Generic[T]):
    accepts: Callable[[T], bool]
    queue: asyncio.Queue[T] = field(default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE))
    overflowed: bool = False

    async def next(self) -> T:
        if self.overflowed:
            raise _too_slow()
        item = await self.queue.get()
        if self.overflowed:
            raise _too_slow()
        return item


class Hub(Generic[T]):
    """This replica's watchers of one kind of item."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription[T]] = set()

    def add(self, accepts: Callable[[T], bool]) -> Subscription[T]:
        subscription = Subscription(accepts)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription[T]) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, item: T) -> None:
        for subscription in list(self._subscriptions):
            if not subscription.accepts(item):
                continue
            try:
                subscription.queue.put_nowait(item)
            except asyncio.QueueFull:
                subscription.overflowed = True
                with contextlib.suppress(asyncio.QueueEmpty):
                    subscription.queue.get_nowait()  # make room to wake the reader
                subscription.queue.put_nowait(item)
                self.unsubscribe(subscription)

    def __len__(self) -> int:
        return len(self._subscriptions)


def matches(station_id: str, site_id: str, want_station: str, want_site: str) -> bool:
    """The station / site filter every watch call offers (empty = any)."""
    if want_station and station_id != want_station:
        return False
    return not want_site or site_id == want_site


class LiveFeed(Generic[T]):
    """A group-less consumer of `topic` from the latest offset that feeds `hub`."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        hub: Hub[T],
        translate: Callable[[Envelope], Awaitable[T | None]],
        event_types: frozenset[str] | None = None,
        **client: Any,
    ) -> None:
        self.hub = hub
        self.translate = translate
        #: Types `translate` can use (None: all); others are skipped by header, undecoded.
        self.event_types = event_types
        self._consumer = AIOKafkaConsumer(
            topic,
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
                    if self.event_types is not None:
                        kind = header_event_type(record.headers)
                        if kind is not None and kind not in self.event_types:
                            continue
                    await self._feed(record.value)

    async def _feed(self, raw: bytes | None) -> None:
        try:
            item = await self.translate(decode(raw))
        except UndecodableEvent:
            return
        except Exception as exc:  # one odd event must not stop every watcher's stream
            log.warning("watch feed skipped an event", error=repr(exc))
            return
        if item is not None:
            self.hub.publish(item)

    async def stop(self) -> None:
        await self._consumer.stop()
