"""Background work per station, bounded and coalesced, so no caller waits on a station.

A station that is already queued is not queued twice: its pending job is upgraded instead
(a full push wins over a differential one), and the job reads the current state when it
runs. So memory is bounded by the number of stations, and at most `max_concurrent` jobs
talk to stations at once however many changes or boots arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
#: Job kinds from weakest to strongest.
DIFFERENTIAL, BOOT, FULL = "differential", "boot", "full"
_STRENGTH = {DIFFERENTIAL: 0, BOOT: 1, FULL: 2}

Work = Callable[[str, str], Awaitable[object]]


class StationQueue:
    def __init__(self, work: Work, max_concurrent: int = 32) -> None:
        self._work = work
        self._gate = asyncio.Semaphore(max_concurrent)
        self._pending: dict[str, str] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._spawned: set[asyncio.Task[object]] = set()

    def submit(self, station_id: str, kind: str = DIFFERENTIAL) -> None:
        held = self._pending.get(station_id)
        if held is None or _STRENGTH[kind] > _STRENGTH[held]:
            self._pending[station_id] = kind
        if station_id not in self._tasks:
            self._tasks[station_id] = asyncio.create_task(self._drain(station_id))

    def spawn(self, work: Awaitable[object]) -> None:
        """Run other background work (e.g. resolving a site's stations) under close()."""

        async def guarded() -> object:
            try:
                return await work
            except Exception as exc:
                log.warning("local-list background work failed", error=repr(exc))
                return None

        task = asyncio.create_task(guarded())
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def _drain(self, station_id: str) -> None:
        try:
            while station_id in self._pending:
                kind = self._pending.pop(station_id)
                async with self._gate:
                    try:
                        await self._work(station_id, kind)
                    except Exception as exc:
                        log.warning(
                            "local-list job failed",
                            station_id=station_id,
                            kind=kind,
                            error=repr(exc),
                        )
        finally:
            self._tasks.pop(station_id, None)

    @property
    def busy(self) -> bool:
        return bool(self._tasks or self._spawned)

    async def idle(self, timeout_s: float = 30.0) -> None:
        """Wait until nothing is queued or running (tests, graceful stop)."""
        async with asyncio.timeout(timeout_s):
            while self.busy:
                await asyncio.gather(*self._tasks.values(), *self._spawned, return_exceptions=True)

    async def close(self) -> None:
        self._pending.clear()
        tasks = [*self._tasks.values(), *self._spawned]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
