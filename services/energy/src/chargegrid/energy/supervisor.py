"""All site controllers of this process: created on first need, each run by its leader.

The consumer tells the supervisor which stations changed; it finds their site (stations
service, cached) and wakes that site's controller. A discovery loop also starts controllers
for every site the database knows (after a restart, or for changes other replicas' consumers
stored) and places charging stations whose site could not be asked before. API calls that
change a site (SetLimit, DR, settings) rebalance it at once and get its snapshot; on a
replica that does not lead the site they get a preview instead (nothing is sent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from chargegrid.energy import metrics
from chargegrid.energy.controller import ControllerDeps, SiteController
from chargegrid.energy.directory import DirectoryUnavailable
from chargegrid.energy.handlers import Changes
from chargegrid.energy.leadership import ElectorFactory, default_elector
from chargegrid.energy.snapshot import SiteSnapshot
from chargegrid.energy.store import known_sites, place_station, unplaced_stations
from chargegrid.platform.leader import Elector
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
BOOT_TRIGGERS = frozenset({"station booted", "station online"})


class Supervisor:
    def __init__(self, deps: ControllerDeps, electors: ElectorFactory = default_elector) -> None:
        self.deps = deps
        self.electors = electors
        self.controllers: dict[str, SiteController] = {}
        self._electors: dict[str, Elector] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def controller(self, site_id: str) -> SiteController:
        found = self.controllers.get(site_id)
        if found is None:
            found = SiteController(site_id, self.deps)
            self.controllers[site_id] = found
            elector = self.electors(site_id)
            self._electors[site_id] = elector
            self._spawn(elector.run(found.run))
            metrics.SITES.set(len(self.controllers))
        return found

    def leads(self, site_id: str) -> bool:
        elector = self._electors.get(site_id)
        return elector is not None and elector.is_leader

    async def on_changes(self, changes: Changes) -> None:
        """The consumer's callback after a committed batch."""
        for station_id, trigger in changes:
            try:
                info = await self.deps.directory.station(station_id)
            except DirectoryUnavailable:
                continue  # the discovery loop places it later
            if info is None or not info.site_id:
                continue
            self.controller(info.site_id).wake(trigger, station_id, boot=trigger in BOOT_TRIGGERS)

    async def rebalance_now(self, site_id: str, trigger: str) -> SiteSnapshot:
        controller = self.controller(site_id)
        await asyncio.sleep(0)  # let a new elector take the lead first
        return await controller.rebalance(trigger, apply=self.leads(site_id))

    async def current(self, site_id: str) -> SiteSnapshot:
        """The site's last snapshot, or a fresh preview when there is none yet."""
        controller = self.controller(site_id)
        if controller.snapshot is not None:
            return controller.snapshot
        await asyncio.sleep(0)
        return await controller.rebalance("asked", apply=self.leads(site_id))

    async def discover(self, interval_s: float) -> None:
        while True:
            try:
                await self._discover_once()
            except Exception as exc:  # the next round tries again
                log.warning("energy discovery failed", error=repr(exc))
            await asyncio.sleep(interval_s)

    async def _discover_once(self) -> None:
        async with self.deps.sessions() as session, session.begin():
            for station_id in await unplaced_stations(session):
                try:
                    info = await self.deps.directory.station(station_id)
                except DirectoryUnavailable:
                    return
                if info is not None and info.site_id:
                    await place_station(session, station_id, info.site_id)
            sites = await known_sites(session)
        for site_id in sites:
            self.controller(site_id)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
