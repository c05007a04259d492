"""Local authorization lists kept in step on the stations.

A station's effective list is its own list plus its site's list. Whenever that content
changes, the station is sent what changed (Differential, removals without a status) under a
higher version, or everything (Full) when asked, when the station's state is unknown, or
when it answers VersionMismatch. At boot the station's version is compared with the
version of what it was last confirmed to hold; a difference gets a Full update. All of this
runs in the background through a `StationQueue`, one job per station at a time.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable

from chargegrid.authorization.domain import Clock, LocalEntry, Scope, SyncRecord, TokenKey
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.gateway import StationGateway, to_local_authorization
from chargegrid.authorization.local_list_store import LocalListStore
from chargegrid.authorization.sites import SiteDirectory
from chargegrid.authorization.station_queue import BOOT, DIFFERENTIAL, FULL, StationQueue
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
ACCEPTED, VERSION_MISMATCH = "Accepted", "VersionMismatch"


class LocalLists:
    def __init__(
        self,
        store: LocalListStore,
        engine: DecisionEngine,
        sites: SiteDirectory,
        gateway: StationGateway,
        clock: Clock,
        max_concurrent: int = 32,
    ) -> None:
        self.store = store
        self.engine = engine
        self.sites = sites
        self.gateway = gateway
        self.clock = clock
        self.queue = StationQueue(self._run_job, max_concurrent)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # --- what a station should hold ----------------------------------------------------------
    async def effective(self, station_id: str) -> dict[TokenKey, LocalEntry]:
        site = await self.sites.site_of(station_id)
        _, keys = await self.store.members(Scope("station", station_id))
        if site:
            keys += (await self.store.members(Scope("site", site)))[1]
        now = self.clock()
        found: dict[TokenKey, LocalEntry] = {}
        for key in keys:
            token = self.engine.get(key)
            if token is None:
                continue
            status = (
                "Expired" if token.status == "Accepted" and token.expired(now) else token.status
            )
            found[key] = LocalEntry(
                token.id_token, token.type, status, token.expires_at, token.group_id
            )
        return found

    # --- triggers (never wait for a station) -------------------------------------------------
    def scopes_changed(self, scopes: Iterable[Scope]) -> None:
        """Queue a differential push to every station the changed lists reach."""
        if not self.gateway.configured:
            return
        for scope in set(scopes):
            if scope.kind == "station":
                self.queue.submit(scope.id, DIFFERENTIAL)
            else:
                self.queue.spawn(self._fan_out(scope.id))

    async def _fan_out(self, site_id: str) -> None:
        for station_id in await self.sites.stations_of(site_id, online_only=True):
            self.queue.submit(station_id, DIFFERENTIAL)

    def station_booted(self, station_id: str) -> None:
        if self.gateway.configured:
            self.sites.forget(station_id)  # it may have moved while it was away
            self.queue.submit(station_id, BOOT)

    async def _run_job(self, station_id: str, kind: str) -> object:
        if kind == BOOT:
            return await self.reconcile(station_id)
        return await self.push(station_id, full=kind == FULL)

    # --- talking to the station --------------------------------------------------------------
    async def push(self, station_id: str, full: bool = False) -> SyncRecord:
        async with self._locks[station_id]:
            return await self._push(station_id, full)

    async def _push(self, station_id: str, full: bool) -> SyncRecord:
        current = await self.effective(station_id)
        record = await self.store.sync(station_id) or SyncRecord(station_id)
        acked = record.acked_entries
        if full or acked is None:
            update_type = "Full"
            items = [to_local_authorization(e) for e in current.values()]
        else:
            changed = [e for key, e in current.items() if acked.get(key) != e]
            removed = [e for key, e in acked.items() if key not in current]
            if not changed and not removed:
                return record
            update_type = "Differential"
            items = [to_local_authorization(e) for e in changed]
            items += [to_local_authorization(e, removed=True) for e in removed]
        version = max(record.version, record.acked_version) + 1
        status = await self.gateway.send_local_list(station_id, version, update_type, items)
        accepted = status == ACCEPTED
        sent = SyncRecord(
            station_id=station_id,
            version=version,
            update_type=update_type,
            status=status,
            at=self.clock(),
            acked_version=version if accepted else record.acked_version,
            acked_entries=current if accepted else acked,
        )
        await self.store.save_sync(sent)
        log.info(
            "local list sent",
            station_id=station_id,
            version=version,
            update_type=update_type,
            entries=len(items),
            status=status,
        )
        if status == VERSION_MISMATCH and update_type == "Differential":
            return await self._push(station_id, full=True)
        return sent

    async def reconcile(self, station_id: str) -> SyncRecord | None:
        """At boot: send Full when the station's version is not the one it should have."""
        async with self._locks[station_id]:
            reported = await self.gateway.local_list_version(station_id)
            record = await self.store.sync(station_id)
            if isinstance(reported, str):
                log.info("local list version unknown", station_id=station_id, status=reported)
                return record
            current = await self.effective(station_id)
            if record is None or record.acked_entries is None:
                if not current:
                    return record  # nothing was ever managed here
                return await self._push(station_id, full=True)
            if reported != record.acked_version:
                return await self._push(station_id, full=True)
            return await self._push(station_id, full=False)
