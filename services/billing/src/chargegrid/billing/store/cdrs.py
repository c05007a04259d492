"""Charge detail records: one per session (the table's unique key enforces it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.billing.domain.cdr import Cdr
from chargegrid.billing.domain.codec import breakdown_from_dict, breakdown_to_dict
from chargegrid.billing.models import CdrRow


@dataclass(frozen=True)
class CdrFilter:
    station_id: str = ""
    site_id: str = ""
    id_token: str = ""
    #: Sessions that started in [since, until).
    since: datetime | None = None
    until: datetime | None = None


def _domain(row: CdrRow) -> Cdr:
    return Cdr(
        id=row.id,
        session_id=row.session_id,
        station_id=row.station_id,
        site_id=row.site_id,
        id_token=row.id_token,
        id_token_type=row.id_token_type,
        started_at=row.started_at,
        ended_at=row.ended_at,
        energy_wh=Decimal(row.energy_wh),
        total_time_s=row.total_time_s,
        charging_time_s=row.charging_time_s,
        parking_time_s=row.parking_time_s,
        cost=breakdown_from_dict(json.loads(row.cost)),
        timezone=row.timezone,
        created_at=row.created_at,
    )


async def add(session: AsyncSession, cdr: Cdr) -> None:
    session.add(
        CdrRow(
            id=cdr.id,
            session_id=cdr.session_id,
            station_id=cdr.station_id,
            site_id=cdr.site_id,
            id_token=cdr.id_token,
            id_token_type=cdr.id_token_type,
            started_at=cdr.started_at,
            ended_at=cdr.ended_at,
            energy_wh=str(cdr.energy_wh),
            total_time_s=cdr.total_time_s,
            charging_time_s=cdr.charging_time_s,
            parking_time_s=cdr.parking_time_s,
            cost=json.dumps(breakdown_to_dict(cdr.cost)),
            timezone=cdr.timezone,
            created_at=cdr.created_at,
        )
    )
    await session.flush()


async def by_id(session: AsyncSession, cdr_id: str) -> Cdr | None:
    row = (await session.execute(select(CdrRow).where(CdrRow.id == cdr_id))).scalar()
    return _domain(row) if row else None


async def by_session(session: AsyncSession, session_id: str) -> Cdr | None:
    query = select(CdrRow).where(CdrRow.session_id == session_id)
    row = (await session.execute(query)).scalar()
    return _domain(row) if row else None


def _filtered(query: Select[Any], where: CdrFilter) -> Select[Any]:
    if where.station_id:
        query = query.where(CdrRow.station_id == where.station_id)
    if where.site_id:
        query = query.where(CdrRow.site_id == where.site_id)
    if where.id_token:
        query = query.where(CdrRow.id_token == where.id_token)
    if where.since is not None:
        query = query.where(CdrRow.started_at >= where.since)
    if where.until is not None:
        query = query.where(CdrRow.started_at < where.until)
    return query


async def page(
    session: AsyncSession, where: CdrFilter, after_seq: int, limit: int
) -> tuple[list[Cdr], int | None, int]:
    """Up to `limit` CDRs after `after_seq` in insertion order, the next cursor, the total."""
    query = _filtered(select(CdrRow), where)
    rows = list(
        (
            await session.execute(
                query.where(CdrRow.seq > after_seq).order_by(CdrRow.seq).limit(limit + 1)
            )
        ).scalars()
    )
    count_query = _filtered(select(CdrRow), where).with_only_columns(func.count())
    total = int((await session.execute(count_query)).scalar() or 0)
    more = len(rows) > limit
    rows = rows[:limit]
    return [_domain(row) for row in rows], (rows[-1].seq if more else None), total
