"""Outlet marks inside the caller's transaction: the newest "nothing runs here" per outlet.

A 1.6 boot is marked on evse 0 (the whole station), an Available or Faulted status on its
EVSE. Only the newest mark per outlet is kept: a session that started before it is over
whichever fact came first, and one that started after it is not touched by it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.session.domain.closing import REBOOT_REASON
from chargegrid.session.domain.model import OutletFreed, Rebooted
from chargegrid.session.models import OutletMarkRow

Mark = Rebooted | OutletFreed


class OutletMarks:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def note(self, mark: Mark) -> None:
        evse, status = (
            (0, REBOOT_REASON) if isinstance(mark, Rebooted) else (mark.evse_id, mark.status)
        )
        query = (
            select(OutletMarkRow)
            .where(OutletMarkRow.station_id == mark.station_id, OutletMarkRow.evse_id == evse)
            .with_for_update()
        )
        row = (await self.db.execute(query)).scalar_one_or_none()
        if row is None:
            self.db.add(
                OutletMarkRow(station_id=mark.station_id, evse_id=evse, at=mark.at, status=status)
            )
        elif mark.at > row.at:
            row.at, row.status = mark.at, status
        await self.db.flush()

    async def of_station(self, station_id: str) -> list[Mark]:
        """The station's marks, oldest first."""
        query = (
            select(OutletMarkRow)
            .where(OutletMarkRow.station_id == station_id)
            .order_by(OutletMarkRow.at)
        )
        return [
            Rebooted(row.station_id, row.at)
            if row.evse_id == 0
            else OutletFreed(row.station_id, row.at, row.evse_id, row.evse_id, row.status)
            for row in (await self.db.execute(query)).scalars()
        ]
