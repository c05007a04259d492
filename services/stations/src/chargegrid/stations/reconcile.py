"""Bring a station's configuration to its effective desired values, and remember the outcome.

Reads the station's current values of the effective keys (only those of its OCPP version),
writes the ones that differ, and records per key what the station said, "in_sync" or
"offline". Runs on boot (scheduled in the background, so the event consumer never waits on a
station) and on request; one reconcile at a time per station within a replica.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.common.v1.common_pb2 import OCPP_VERSION_16
from chargegrid.platform.grpc.errors import NotFound
from chargegrid.platform.logging import get_logger
from chargegrid.stations.clock import Clock
from chargegrid.stations.gateway import (
    CommandRefused,
    ReadConfiguration,
    StationCommands,
    StationUnreachable,
)
from chargegrid.stations.store.configuration import (
    Desired,
    Reported,
    effective_desired,
    record_attempt,
    store_reported,
)
from chargegrid.stations.store.stations import get_station

log = get_logger(__name__)
OFFLINE, IN_SYNC = "offline", "in_sync"


def applies_to(key: str, ocpp_version: int) -> bool:
    """1.6 stations get plain keys, 2.x stations Component/Variable keys; unknown: all."""
    if not ocpp_version:
        return True
    return ("/" in key) != (ocpp_version == OCPP_VERSION_16)


class Reconciler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        commands: StationCommands,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.commands = commands
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    async def reconcile(self, station_id: str) -> None:
        async with self._locks.setdefault(station_id, asyncio.Lock()):
            await self._reconcile(station_id)

    async def _reconcile(self, station_id: str) -> None:
        async with self.sessions() as session:
            station = await get_station(session, station_id)
            version = station.ocpp_version
            desired = {
                key: value
                for key, value in (await effective_desired(session, station)).items()
                if applies_to(key, version)
            }
        if not desired:
            return
        read, results = await self._apply(station_id, desired)
        await self._record(station_id, desired, read, results)

    async def _apply(
        self, station_id: str, desired: dict[str, Desired]
    ) -> tuple[ReadConfiguration | None, dict[str, str]]:
        try:
            read = await self.commands.get_configuration(station_id, list(desired))
        except StationUnreachable:
            return None, dict.fromkeys(desired, OFFLINE)
        except CommandRefused as refused:
            return None, dict.fromkeys(desired, refused.status)
        current = {key: value for key, (value, _readonly) in read.values.items()}
        changes = {k: d.value for k, d in desired.items() if current.get(k) != d.value}
        results = {key: IN_SYNC for key in desired if key not in changes}
        if not changes:
            return read, results
        try:
            answers = await self.commands.set_configuration(station_id, changes)
        except StationUnreachable:
            answers = dict.fromkeys(changes, OFFLINE)
        except CommandRefused as refused:
            answers = dict.fromkeys(changes, refused.status)
        for key in changes:
            results[key] = answers.get(key, "Rejected")
        return read, results

    async def _record(
        self,
        station_id: str,
        desired: dict[str, Desired],
        read: ReadConfiguration | None,
        results: dict[str, str],
    ) -> None:
        now = self.clock()
        reported = read.values if read is not None else {}
        async with self.sessions() as session, session.begin():
            try:
                await get_station(session, station_id)
            except NotFound:
                return  # deleted while we were talking to it
            await store_reported(
                session,
                station_id,
                [Reported(key, value, readonly) for key, (value, readonly) in reported.items()],
                now,
            )
            for key, want in desired.items():
                await record_attempt(
                    session,
                    station_id,
                    key,
                    desired=want.value,
                    status=results[key],
                    at=now,
                    reported=reported[key][0] if key in reported else None,
                )


class BackgroundTasks:
    """Fire-and-forget work with one task per key at a time, cancelled on close."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def spawn(self, key: str, work: Coroutine[Any, Any, None]) -> bool:
        if key in self._tasks:
            work.close()
            return False
        task = asyncio.create_task(self._guarded(key, work))
        self._tasks[key] = task
        task.add_done_callback(lambda _t: self._tasks.pop(key, None))
        return True

    @staticmethod
    async def _guarded(key: str, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:
            log.warning("background work failed", key=key, error=repr(exc))

    async def idle(self) -> None:
        """Wait for what is running now (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
