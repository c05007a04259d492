"""Outlet marks inside the caller's transaction: the newest "nothing runs here" per outlet.

A 1.6 boot is marked on evse 0 (the whole station) and applies at once. An Available or
Faulted status is marked on its EVSE and applies only once swept, a grace after it was
noted: the Ended of a normal stop, sent before the status but on another topic, may still
be on its way, and it must complete the session, not find it interrupted. Only the newest
mark per outlet is kept: a session that started before it is over whichever fact came
first, and one that started after it is not touched by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.session.domain.closing import REBOOT_REASON
from chargegrid.session.domain.model import OutletFreed, Rebooted
from chargegrid.session.models import OutletMarkRow

Mark = Rebooted | OutletFreed


def _mark_of(row: OutletMarkRow) -> Mark:
    if row.evse_id == 0:
        return Rebooted(row.station_id, row.at)
    return OutletFreed(row.station_id, row.at, row.evse_id, row.evse_id, row.status)


class OutletMarks:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def note(self, mark: Mark, now: datetime) -> None:
        is_boot = isinstance(mark, Rebooted)
        evse, status = (0, REBOOT_REASON)
        if isinstance(mark, OutletFreed):
            evse, status = mark.evse_id, mark.status
        query = (
            select(OutletMarkRow)
            .where(OutletMarkRow.station_id == mark.station_id, OutletMarkRow.evse_id == evse)
            .with_for_update()
        )
        row = (await self.db.execute(query)).scalar_one_or_none()
        if row is None:
            row = OutletMarkRow(station_id=mark.station_id, evse_id=evse)
            self.db.add(row)
        elif mark.at <= row.at:
            return
        row.at, row.status, row.noted_at, row.swept = mark.at, status, now, is_boot
        await self.db.flush()

    async def note_boots(self, boots: Iterable[Rebooted], now: datetime) -> None:
        """`note` for many 1.6 boots in one statement (a boot storm's batch): per station
        the newest boot, kept only where it is newer than the station's stored one."""
        newest: dict[str, datetime] = {}
        for boot in boots:
            if boot.station_id not in newest or boot.at > newest[boot.station_id]:
                newest[boot.station_id] = boot.at
        if not newest:
            return
        dialect = self.db.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(OutletMarkRow)
        statement = statement.on_conflict_do_update(
            index_elements=["station_id", "evse_id"],
            set_={
                "at": statement.excluded.at,
                "status": statement.excluded.status,
                "noted_at": statement.excluded.noted_at,
                "swept": statement.excluded.swept,
            },
            where=statement.excluded.at > OutletMarkRow.at,
        )
        rows = [
            {"station_id": station, "evse_id": 0, "at": at, "status": REBOOT_REASON}
            | {"noted_at": now, "swept": True}
            for station, at in newest.items()
        ]
        await self.db.execute(statement, rows)

    async def in_force(self, station_id: str) -> list[Mark]:
        """The station's marks a start must honour now (boots, swept statuses), oldest first."""
        query = (
            select(OutletMarkRow)
            .where(OutletMarkRow.station_id == station_id, OutletMarkRow.swept.is_(True))
            .order_by(OutletMarkRow.at)
        )
        return [_mark_of(row) for row in (await self.db.execute(query)).scalars()]

    async def due(self, noted_before: datetime, limit: int) -> list[Mark]:
        """Status marks whose grace is over and that were not swept yet (locked)."""
        query = (
            select(OutletMarkRow)
            .where(OutletMarkRow.swept.is_(False), OutletMarkRow.noted_at <= noted_before)
            .order_by(OutletMarkRow.noted_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_mark_of(row) for row in (await self.db.execute(query)).scalars()]

    async def swept(self, mark: OutletFreed) -> None:
        """Put a due mark (still locked by `due`) in force."""
        query = select(OutletMarkRow).where(
            OutletMarkRow.station_id == mark.station_id, OutletMarkRow.evse_id == mark.evse_id
        )
        for row in (await self.db.execute(query)).scalars():
            row.swept = True
        await self.db.flush()
