"""Active sessions and their timeline points, kept so an estimate needs no other service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.billing.domain.timeline import Observation
from chargegrid.billing.models import ActiveSessionRow, SessionPointRow


@dataclass(frozen=True)
class ActiveSession:
    session_id: str
    station_id: str
    site_id: str
    id_token: str
    id_token_type: str
    token_group: str | None
    timezone: str | None
    started_at: datetime


def _domain(row: ActiveSessionRow) -> ActiveSession:
    return ActiveSession(
        row.session_id,
        row.station_id,
        row.site_id,
        row.id_token,
        row.id_token_type,
        row.token_group,
        row.timezone,
        row.started_at,
    )


async def get_active(session: AsyncSession, session_id: str) -> ActiveSession | None:
    row = await session.get(ActiveSessionRow, session_id)
    return _domain(row) if row else None


async def upsert_active(session: AsyncSession, active: ActiveSession, now: datetime) -> None:
    """Insert, or refresh what a later event knows better (site, token, lookups)."""
    row = await session.get(ActiveSessionRow, active.session_id)
    if row is None:
        row = ActiveSessionRow(session_id=active.session_id)
        session.add(row)
    row.station_id = active.station_id
    row.site_id = active.site_id or (row.site_id or "")
    row.id_token = active.id_token or (row.id_token or "")
    row.id_token_type = active.id_token_type or (row.id_token_type or "")
    row.token_group = active.token_group if active.token_group is not None else row.token_group
    row.timezone = active.timezone if active.timezone is not None else row.timezone
    row.started_at = active.started_at
    row.updated_at = now
    await session.flush()


async def add_point(session: AsyncSession, session_id: str, point: Observation) -> None:
    session.add(
        SessionPointRow(
            session_id=session_id,
            at=point.at,
            energy_wh=str(point.energy_wh),
            charging_s=point.charging_s,
            power_w=str(point.power_w),
        )
    )
    await session.flush()


async def points(session: AsyncSession, session_id: str) -> list[Observation]:
    query = (
        select(SessionPointRow)
        .where(SessionPointRow.session_id == session_id)
        .order_by(SessionPointRow.at, SessionPointRow.id)
    )
    return [
        Observation(row.at, Decimal(row.energy_wh), row.charging_s, Decimal(row.power_w))
        for row in (await session.execute(query)).scalars()
    ]


async def forget(session: AsyncSession, session_id: str) -> None:
    """A closed session's working state: its CDR is the record from now on."""
    await session.execute(delete(SessionPointRow).where(SessionPointRow.session_id == session_id))
    await session.execute(delete(ActiveSessionRow).where(ActiveSessionRow.session_id == session_id))
