"""The read side: sessions and samples by filter, newest sessions first, samples by time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.session.domain.model import ACTIVE, Sample, SessionState
from chargegrid.session.models import SampleRow, SessionRow
from chargegrid.session.store import sample_of, state_of

#: ActiveSessions answers in one reply, oldest first, with at most this many (its `total`
#: still counts them all; ListSessions with status "active" pages through any number).
MAX_ACTIVE = 10_000


@dataclass(frozen=True)
class SessionFilter:
    station_id: str = ""
    site_id: str = ""
    id_token: str = ""
    status: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Select[Any], wanted: SessionFilter) -> Select[Any]:
    if wanted.station_id:
        query = query.where(SessionRow.station_id == wanted.station_id)
    if wanted.site_id:
        query = query.where(SessionRow.site_id == wanted.site_id)
    if wanted.id_token:
        query = query.where(SessionRow.id_token == wanted.id_token)
    if wanted.status:
        query = query.where(SessionRow.status == wanted.status)
    if wanted.since is not None:
        query = query.where(SessionRow.started_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(SessionRow.started_at < wanted.until)
    return query


async def find_session(db: AsyncSession, session_id: str) -> SessionState | None:
    row = await db.get(SessionRow, session_id)
    return state_of(row) if row is not None else None


async def list_sessions(
    db: AsyncSession, wanted: SessionFilter, size: int, after: tuple[datetime, str] | None
) -> tuple[list[SessionState], int]:
    """One page (plus one row, to tell whether another follows) and the filter's total."""
    base = _filtered(select(SessionRow), wanted)
    total = await db.scalar(select(func.count()).select_from(base.subquery()))
    query = base
    if after is not None:
        started, last_id = after
        query = query.where(
            or_(
                SessionRow.started_at < started,
                and_(SessionRow.started_at == started, SessionRow.id < last_id),
            )
        )
    query = query.order_by(SessionRow.started_at.desc(), SessionRow.id.desc()).limit(size + 1)
    rows = (await db.execute(query)).scalars()
    return [state_of(row) for row in rows], int(total or 0)


async def active_sessions(
    db: AsyncSession, site_id: str, station_id: str
) -> tuple[list[SessionState], int]:
    """The active sessions (at most MAX_ACTIVE, oldest first) and how many there are."""
    wanted = SessionFilter(station_id=station_id, site_id=site_id, status=ACTIVE)
    base = _filtered(select(SessionRow), wanted)
    query = base.order_by(SessionRow.started_at, SessionRow.id).limit(MAX_ACTIVE)
    states = [state_of(row) for row in (await db.execute(query)).scalars()]
    if len(states) < MAX_ACTIVE:
        return states, len(states)
    total = await db.scalar(select(func.count()).select_from(base.subquery()))
    return states, int(total or 0)


async def samples_page(
    db: AsyncSession,
    session_id: str,
    measurand: str,
    size: int,
    after: tuple[datetime, int] | None,
) -> list[tuple[int, Sample]]:
    """Samples in time order, with their row ids (the page key), plus one extra row."""
    query = select(SampleRow).where(SampleRow.session_id == session_id)
    if measurand:
        query = query.where(SampleRow.measurand == measurand)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(SampleRow.timestamp > at, and_(SampleRow.timestamp == at, SampleRow.id > last_id))
        )
    query = query.order_by(SampleRow.timestamp, SampleRow.id).limit(size + 1)
    return [(row.id, sample_of(row)) for row in (await db.execute(query)).scalars()]
