"""Reservations the registry made: created before ReserveNow is sent, so the id the station
gets is the row's, then settled by the station's answer and its later updates.

A transaction the station started on a reservation marks it Used, with the transaction's
id (`mark_used`), whatever the registry's clock says about its expiry: the station held it.
A Reserved reservation past its expiry reads Expired (`effective_status`) even before the
station says so (1.6 stations never do), so the registry never shows an EVSE held longer
than the station holds it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.platform.grpc.errors import NotFound
from chargegrid.stations.models import ReservationRow
from chargegrid.stations.store.paging import Page

REQUESTED = "Requested"
RESERVED = "Reserved"
CANCELLED = "Cancelled"
EXPIRED = "Expired"
#: A transaction started on it (2.0.1 H03; 1.6 StartTransaction with its reservationId).
USED = "Used"
#: 2.x ReservationStatusUpdate statuses the registry accepts from a station.
STATION_UPDATES = frozenset({EXPIRED, "Removed"})


def effective_status(row: ReservationRow, now: datetime) -> str:
    if row.status == RESERVED and row.expiry <= now:
        return EXPIRED
    return row.status


def is_active(row: ReservationRow, now: datetime) -> bool:
    return effective_status(row, now) in (REQUESTED, RESERVED)


async def get_reservation(session: AsyncSession, reservation_id: int) -> ReservationRow:
    row = await session.get(ReservationRow, reservation_id)
    if row is None:
        raise NotFound(f"reservation {reservation_id} does not exist")
    return row


async def list_reservations(
    session: AsyncSession, station_id: str, active_only: bool, page: Page, now: datetime
) -> list[ReservationRow]:
    """Newest first, one row more than the page (so the caller knows another page exists)."""
    query = select(ReservationRow).order_by(ReservationRow.id.desc())
    if station_id:
        query = query.where(ReservationRow.station_id == station_id)
    if active_only:
        query = query.where(
            ReservationRow.status.in_((REQUESTED, RESERVED)), ReservationRow.expiry > now
        )
    if page.after is not None:
        query = query.where(ReservationRow.id < int(page.after))
    return list((await session.scalars(query.limit(page.size + 1))).all())


async def station_update(
    session: AsyncSession, station_id: str, reservation_id: int, status: str, at: datetime
) -> bool:
    """A 2.x ReservationStatusUpdate: applied to an active reservation of that station only
    (an unknown id, another station's, or one already ended changes nothing)."""
    row = await session.get(ReservationRow, reservation_id)
    if row is None or row.station_id != station_id or status not in STATION_UPDATES:
        return False
    if row.status not in (REQUESTED, RESERVED):
        return False
    row.status, row.updated_at = status, at
    return True


async def mark_used(
    session: AsyncSession, station_id: str, reservation_id: int, transaction_id: str, at: datetime
) -> bool:
    """A transaction of that station started on the reservation: Used (an unknown id,
    another station's, or one already ended otherwise changes nothing; a repeat is a no-op)."""
    row = await session.get(ReservationRow, reservation_id)
    if row is None or row.station_id != station_id or row.status not in (REQUESTED, RESERVED):
        return False
    row.status, row.transaction_id, row.updated_at = USED, transaction_id[:36], at
    return True
