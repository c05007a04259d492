"""Marks stations offline when nothing was heard from them for too long.

A gateway pod that dies never publishes its Disconnected events, so silence is the only sign
left. The sweep is one conditional UPDATE per heartbeat interval in use: replicas sweeping at
the same time each mark a station at most once between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.logging import get_logger
from chargegrid.stations.clock import Clock
from chargegrid.stations.store.presence import sweep_silent

log = get_logger(__name__)


class OfflineSweeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        default_interval_s: int,
        grace_factor: float,
        every_s: float,
        on_offline: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.default_interval_s = default_interval_s
        self.grace_factor = grace_factor
        self.every_s = every_s
        self.on_offline = on_offline

    async def sweep_once(self) -> list[str]:
        async with self.sessions() as session, session.begin():
            swept = await sweep_silent(
                session, self.clock(), self.default_interval_s, self.grace_factor
            )
        if swept:
            log.info("stations silent, marked offline", count=len(swept))
            if self.on_offline is not None:
                await self.on_offline(swept)
        return swept

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.sweep_once()
            except Exception as exc:  # a database hiccup must not end the sweeping
                log.warning("offline sweep failed", error=repr(exc))
