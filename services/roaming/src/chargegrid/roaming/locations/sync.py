"""Keeps the locations projection in step with the stations service: at start, every
`interval_s`, and when an operator asks (resync). The stations service publishes no events
for registry edits (sites, connector types), so polling is how those changes are found;
live status comes from station.events.v1 instead (consumers.py)."""

from __future__ import annotations

import asyncio
import contextlib

from chargegrid.platform.logging import get_logger
from chargegrid.roaming.locations.source import Registry
from chargegrid.roaming.locations.store import LocationStore, SyncResult

log = get_logger(__name__)


class LocationSync:
    def __init__(self, registry: Registry, store: LocationStore, interval_s: float) -> None:
        self.registry = registry
        self.store = store
        self.interval_s = interval_s
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def once(self) -> SyncResult:
        async with self._lock:
            sites, stations = await self.registry.snapshot()
            result = await self.store.sync(sites, stations)
        if result.locations_changed or result.evses_changed:
            log.info(
                "locations synced",
                locations_changed=result.locations_changed,
                evses_changed=result.evses_changed,
                pushes=result.pushes,
            )
        return result

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.once()
            except Exception as exc:  # stations away: the projection stays, next tick retries
                log.warning("locations sync failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    def stop(self) -> None:
        self._stopping.set()
