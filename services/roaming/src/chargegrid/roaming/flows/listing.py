"""Paged reads of what was sent to one partner (GET /sessions, GET /cdrs)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.roaming.flows.rows import RoamingCdrRow, RoamingSessionRow
from chargegrid.roaming.ocpi.paging import Page

Row = type[RoamingSessionRow] | type[RoamingCdrRow]


async def page_of_partner(
    sessions: async_sessionmaker[AsyncSession], table: Row, partner_id: str, page: Page
) -> tuple[list[dict[str, Any]], int]:
    """One page (oldest change first) of the partner's objects in [date_from, date_to)."""
    where = [table.partner_id == partner_id]
    if page.date_from is not None:
        where.append(table.last_updated >= page.date_from)
    if page.date_to is not None:
        where.append(table.last_updated < page.date_to)
    async with sessions() as session:
        total = await session.scalar(select(func.count()).select_from(table).where(*where))
        rows = (
            await session.scalars(
                select(table)
                .where(*where)
                .order_by(table.last_updated, table.ocpi_id)
                .offset(page.offset)
                .limit(page.limit)
            )
        ).all()
    return [json.loads(row.body) for row in rows], int(total or 0)  # type: ignore[attr-defined]


async def session_of_partner(
    sessions: async_sessionmaker[AsyncSession], partner_id: str, ocpi_id: str
) -> RoamingSessionRow | None:
    async with sessions() as session:
        return await session.scalar(
            select(RoamingSessionRow).where(
                RoamingSessionRow.partner_id == partner_id,
                # a CiString: the partner may send it in another case
                func.upper(RoamingSessionRow.ocpi_id) == ocpi_id.upper(),
            )
        )
