"""The locations projection: written by the sync (from stations) and by station events,
read by the OCPI GETs; every change that a partner must see is put in the outbox in the
same transaction. Pushes of one location share its id as outbox key, so a whole-location
PUT and a later EVSE status PATCH reach a partner in the order they were made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.platform.bus.idempotency import claim_events
from chargegrid.roaming.clock import Clock
from chargegrid.roaming.locations import mapping
from chargegrid.roaming.models import EvseRow, LocationRow, StationStatusRow
from chargegrid.roaming.ocpi.envelope import ocpi_time
from chargegrid.roaming.ocpi.paging import Page
from chargegrid.roaming.outbox import Outbox
from chargegrid.roaming.partners import PartnerStore

MODULE = "locations"
CONSUMER = "roaming-locations"
REMOVED = "REMOVED"


@dataclass(frozen=True)
class StatusReport:
    event_id: str
    station_id: str
    evse_id: int
    status: int
    at: datetime


@dataclass(frozen=True)
class SyncResult:
    locations_changed: int
    evses_changed: int
    pushes: int


def published_evse(row: EvseRow) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(row.doc)
    stamp = ocpi_time(row.last_updated)
    doc["status"] = row.status
    doc["last_updated"] = stamp
    for c in doc["connectors"]:
        c.setdefault("last_updated", stamp)
    return doc


def rendered_evse(doc: str, status: str, last_updated: datetime) -> str:
    """The published EVSE as JSON text, spliced, not parsed: a page holds hundreds."""
    if '"last_updated"' not in doc:  # written before connectors carried their own time
        parsed: dict[str, Any] = orjson.loads(doc)
        for c in parsed["connectors"]:
            c["last_updated"] = ocpi_time(last_updated)
        doc = json.dumps(parsed)
    return f'{doc[:-1]}, "status": "{status}", "last_updated": "{ocpi_time(last_updated)}"}}'


def rendered_location(doc: str, last_updated: datetime, evses: list[str]) -> str:
    return (
        f'{doc[:-1]}, "evses": [{", ".join(evses)}], "last_updated": "{ocpi_time(last_updated)}"}}'
    )


def published_location(row: LocationRow, evses: list[EvseRow]) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(row.doc)
    doc["evses"] = [published_evse(e) for e in sorted(evses, key=lambda e: e.uid)]
    doc["last_updated"] = ocpi_time(row.last_updated)
    return doc


class LocationStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        outbox: Outbox,
        partners: PartnerStore,
        country_code: str,
        party_id: str,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.outbox = outbox
        self.partners = partners
        self.country_code = country_code
        self.party_id = party_id

    def path(self, location_id: str, uid: str | None = None) -> str:
        tail = f"/{uid}" if uid else ""
        return f"/{self.country_code}/{self.party_id}/{location_id}{tail}"

    # --- reads --------------------------------------------------------------------------

    async def page(self, page: Page) -> tuple[list[str], int]:
        """One page of Locations (ordered by id, as JSON text) and how many match the dates."""
        conditions = []
        if page.date_from:
            conditions.append(LocationRow.last_updated >= page.date_from)
        if page.date_to:
            conditions.append(LocationRow.last_updated < page.date_to)
        async with self.sessions() as session:
            total = await session.scalar(
                select(func.count()).select_from(LocationRow).where(*conditions)
            )
            rows = (
                await session.execute(
                    select(LocationRow.id, LocationRow.doc, LocationRow.last_updated)
                    .where(*conditions)
                    .order_by(LocationRow.id)
                    .offset(page.offset)
                    .limit(page.limit)
                )
            ).all()
            evses: dict[str, list[str]] = {}
            if rows:
                query = (
                    select(EvseRow.location_id, EvseRow.doc, EvseRow.status, EvseRow.last_updated)
                    .where(EvseRow.location_id.in_([r[0] for r in rows]))
                    .order_by(EvseRow.uid)
                )
                for location_id, doc, status, at in (await session.execute(query)).all():
                    evses.setdefault(location_id, []).append(rendered_evse(doc, status, at))
        found = [rendered_location(doc, at, evses.get(lid, [])) for lid, doc, at in rows]
        return found, int(total or 0)

    async def _evses(self, session: AsyncSession, ids: list[str]) -> dict[str, list[EvseRow]]:
        if not ids:
            return {}
        found: dict[str, list[EvseRow]] = {}
        for row in await session.scalars(select(EvseRow).where(EvseRow.location_id.in_(ids))):
            found.setdefault(row.location_id, []).append(row)
        return found

    async def location(self, location_id: str) -> dict[str, Any] | None:
        async with self.sessions() as session:
            row = await session.get(LocationRow, location_id)
            if row is None:  # a CiString: the partner may spell it in another case
                row = await session.scalar(
                    select(LocationRow)
                    .where(func.upper(LocationRow.id) == location_id.upper())
                    .order_by(LocationRow.id)
                    .limit(1)
                )
            if row is None:
                return None
            evses = await self._evses(session, [row.id])
        return published_location(row, evses.get(row.id, []))

    # --- writes -------------------------------------------------------------------------

    async def push_all(self, partners: list[Any]) -> int:
        """A PUT of every location to each partner given (a resync); how many pushes."""
        pushes = 0
        async with self.sessions.begin() as session:
            rows = (await session.scalars(select(LocationRow).order_by(LocationRow.id))).all()
            evses = await self._evses(session, [r.id for r in rows])
            for row in rows:
                doc = published_location(row, evses.get(row.id, []))
                pushes += await self.outbox.enqueue_all(
                    partners, MODULE, row.id, "PUT", self.path(row.id), doc, session=session
                )
        return pushes

    async def sync(self, sites: Sequence[st.Site], stations: Sequence[st.Station]) -> SyncResult:
        """Make the projection match the registry; push every location that changed."""
        now = self.clock()
        by_site: dict[str, list[st.Station]] = {}
        for station in stations:
            by_site.setdefault(station.site_id, []).append(station)
        partners = await self.partners.registered_with(MODULE)
        changed_locations = changed_evses = pushes = 0
        async with self.sessions.begin() as session:
            locations = {r.id: r for r in await session.scalars(select(LocationRow))}
            evses = {r.uid: r for r in await session.scalars(select(EvseRow))}
            statuses = {
                (r.station_id, r.evse_id): r
                for r in await session.scalars(select(StationStatusRow))
            }
            touched: set[str] = set()
            seen_uids: set[str] = set()
            for site in sites:
                doc = mapping.location(self.country_code, self.party_id, site)
                row = locations.get(site.id)
                if row is None:
                    row = LocationRow(id=site.id, doc="", digest="", last_updated=now)
                    session.add(row)
                    locations[site.id] = row
                if row.digest != mapping.digest(doc):
                    row.doc, row.digest, row.last_updated = (
                        json.dumps(doc),
                        mapping.digest(doc),
                        now,
                    )
                    touched.add(site.id)
                    changed_locations += 1
                for station in by_site.get(site.id, []):
                    for e in station.evses:
                        if e.evse_id <= 0:
                            continue
                        uid = mapping.evse_uid(station.id, e.evse_id)
                        seen_uids.add(uid)
                        if self._sync_evse(session, evses, statuses, site.id, station, e, now):
                            touched.add(site.id)
                            changed_evses += 1
            for uid, gone in evses.items():
                if uid not in seen_uids and gone.status != REMOVED:
                    gone.status, gone.last_updated = REMOVED, now
                    touched.add(gone.location_id)
                    changed_evses += 1
            await session.flush()
            for location_id in sorted(touched):
                location = locations.get(location_id)
                if location is None:
                    continue
                location.last_updated = now
                members = [e for e in evses.values() if e.location_id == location_id]
                doc = published_location(location, members)
                pushes += await self.outbox.enqueue_all(
                    partners, MODULE, location_id, "PUT", self.path(location_id), doc,
                    session=session,
                )  # fmt: skip
        return SyncResult(changed_locations, changed_evses, pushes)

    def _sync_evse(
        self,
        session: AsyncSession,
        evses: dict[str, EvseRow],
        statuses: dict[tuple[str, int], StationStatusRow],
        location_id: str,
        station: st.Station,
        e: st.Evse,
        now: datetime,
    ) -> bool:
        doc = mapping.evse(self.country_code, self.party_id, station, e)
        uid = doc["uid"]
        digest = mapping.digest(doc)  # of the registry's data alone, without times
        for c in doc["connectors"]:
            c["last_updated"] = ocpi_time(now)
        reported = statuses.get((station.id, e.evse_id))
        status = reported.status if reported else self._registry_status(e)
        row = evses.get(uid)
        if row is None:
            row = EvseRow(
                uid=uid,
                location_id=location_id,
                station_id=station.id,
                evse_id=e.evse_id,
                doc=json.dumps(doc),
                digest=digest,
                status=status,
                last_updated=now,
            )
            session.add(row)
            evses[uid] = row
            return True
        if row.digest == digest and row.location_id == location_id:
            if row.status != REMOVED:
                return False
            row.status = status
        row.doc, row.digest, row.location_id = json.dumps(doc), digest, location_id
        row.last_updated = now
        return True

    @staticmethod
    def _registry_status(e: st.Evse) -> str:
        statuses = [c.status for c in e.connectors]
        return mapping.evse_status(statuses[0]) if statuses else mapping.UNKNOWN

    async def apply_statuses(self, reports: Sequence[StatusReport]) -> int:
        """Station status reports (one batch, one transaction); PATCHes pushed; how many.

        The batch's newest report per EVSE is what counts (a partner needs the status now,
        not each step to it), and the stored statuses and EVSEs of the whole batch are read
        in two queries: one query per report cost ~3 ms of CPU per StatusNotification."""
        if not reports:
            return 0
        partners = await self.partners.registered_with(MODULE)
        now = self.clock()
        pushes = 0
        async with self.sessions.begin() as session:
            fresh = await claim_events(session, CONSUMER, [r.event_id for r in reports], now)
            newest: dict[tuple[str, int], StatusReport] = {}
            for report in reports:
                if report.event_id not in fresh or report.evse_id <= 0:
                    continue
                fresh.discard(report.event_id)
                key = (report.station_id, report.evse_id)
                found = newest.get(key)
                if found is None or report.at >= found.at:
                    newest[key] = report
            if not newest:
                return 0
            keys = list(newest)
            known = {
                (row.station_id, row.evse_id): row
                for row in await session.scalars(
                    select(StationStatusRow).where(
                        tuple_(StationStatusRow.station_id, StationStatusRow.evse_id).in_(keys)
                    )
                )
            }
            evses: dict[tuple[str, int], EvseRow] = {}
            for evse in await session.scalars(
                select(EvseRow).where(tuple_(EvseRow.station_id, EvseRow.evse_id).in_(keys))
            ):
                evses.setdefault((evse.station_id, evse.evse_id), evse)
            for key, report in newest.items():
                pushes += await self._apply_one(
                    session, report, known.get(key), evses.get(key), partners
                )
        return pushes

    async def _apply_one(
        self,
        session: AsyncSession,
        report: StatusReport,
        known: StationStatusRow | None,
        evse: EvseRow | None,
        partners: Any,
    ) -> int:
        status = mapping.evse_status(report.status)
        if known is not None and known.at > report.at:
            return 0  # an older report that arrived late changes nothing
        if known is None:
            session.add(
                StationStatusRow(
                    station_id=report.station_id,
                    evse_id=report.evse_id,
                    status=status,
                    at=report.at,
                )
            )
        else:
            known.status, known.at = status, report.at
        if evse is None or evse.status == status or evse.status == REMOVED:
            return 0
        evse.status, evse.last_updated = status, max(report.at, evse.last_updated)
        location = await session.get(LocationRow, evse.location_id)
        if location is not None:
            location.last_updated = max(location.last_updated, evse.last_updated)
        body = {"status": status, "last_updated": ocpi_time(evse.last_updated)}
        return await self.outbox.enqueue_all(
            partners, MODULE, evse.location_id, "PATCH", self.path(evse.location_id, evse.uid),
            body, session=session,
        )  # fmt: skip
