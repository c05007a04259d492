"""Fan-out of live events to event-stream clients, each with a bounded queue.

A client that falls `queue_size` events behind is dropped (its stream ends with a `dropped`
event and the page reconnects): one slow browser must not grow the server's memory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: str
    data: dict[str, Any]
    site_id: str = ""
    station_id: str = ""


@dataclass(eq=False)
class Subscription:
    """One client's view: which kinds, which site / station, and its queue."""

    kinds: frozenset[str]
    site_id: str | None
    station_id: str | None
    queue: asyncio.Queue[LiveEvent]
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, event: LiveEvent) -> bool:
        family = event.kind.split(".", 1)[0]
        if family not in self.kinds:
            return False
        if self.site_id and event.site_id != self.site_id:
            return False
        return not (self.station_id and event.station_id != self.station_id)

    def offer(self, event: LiveEvent) -> bool:
        """Queue `event`; False (and the client marked dropped) when its queue is full."""
        if self.dropped.is_set():
            return False
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped.set()
            return False
        return True


class Hub:
    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self.dropped_total = 0

    def subscribe(
        self, kinds: frozenset[str], site_id: str | None = None, station_id: str | None = None
    ) -> Subscription:
        sub = Subscription(kinds, site_id, station_id, asyncio.Queue(self.queue_size))
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def clients(self) -> int:
        return len(self._subscribers)

    def publish(self, event: LiveEvent) -> None:
        for sub in list(self._subscribers):
            if sub.wants(event) and not sub.offer(event):
                self.dropped_total += 1
                self._subscribers.discard(sub)
