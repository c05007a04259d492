"""Reads and writes of the energy database that more than one caller needs.

`load_site` gathers, in one session, everything a rebalance of one site reads: its
circuits, its limit and policy, the EVSEs charging there with their stations' settings and
connectivity, the token-group priorities and its demand-response events still to act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.energy.models import (
    AllocationRow,
    ChargingEvseRow,
    CircuitRow,
    DemandResponseRow,
    GroupPriorityRow,
    SiteSettingsRow,
    StationSettingsRow,
    StationStateRow,
)

OPEN_DR_STATES = ("scheduled", "active")


@dataclass
class SiteRows:
    site_id: str
    settings: SiteSettingsRow | None
    circuits: list[CircuitRow]
    charging: list[ChargingEvseRow]
    stations: dict[str, StationSettingsRow] = field(default_factory=dict)
    states: dict[str, StationStateRow] = field(default_factory=dict)
    priorities: dict[str, GroupPriorityRow] = field(default_factory=dict)
    demand_responses: list[DemandResponseRow] = field(default_factory=list)


async def load_site(
    session: AsyncSession, site_id: str, also_stations: set[str] | None = None
) -> SiteRows:
    """The site's rows; `also_stations` (the site's idle stations) get their settings and
    connectivity read too."""
    circuits = list(await session.scalars(select(CircuitRow).where(CircuitRow.site_id == site_id)))
    charging = list(
        await session.scalars(
            select(ChargingEvseRow)
            .where(ChargingEvseRow.site_id == site_id)
            .order_by(ChargingEvseRow.started_at, ChargingEvseRow.station_id)
        )
    )
    station_ids = {row.station_id for row in charging} | (also_stations or set())
    settings_rows = await session.scalars(
        select(StationSettingsRow).where(StationSettingsRow.station_id.in_(station_ids))
    )
    state_rows = await session.scalars(
        select(StationStateRow).where(StationStateRow.station_id.in_(station_ids))
    )
    groups = {row.group_id for row in charging if row.group_id}
    priority_rows = await session.scalars(
        select(GroupPriorityRow).where(GroupPriorityRow.group_id.in_(groups))
    )
    demand = await session.scalars(
        select(DemandResponseRow)
        .where(DemandResponseRow.site_id == site_id)
        .where(DemandResponseRow.state.in_(OPEN_DR_STATES))
        .order_by(DemandResponseRow.starts_at)
    )
    return SiteRows(
        site_id=site_id,
        settings=await session.get(SiteSettingsRow, site_id),
        circuits=circuits,
        charging=charging,
        stations={row.station_id: row for row in settings_rows},
        states={row.station_id: row for row in state_rows},
        priorities={row.group_id: row for row in priority_rows},
        demand_responses=list(demand),
    )


async def known_sites(session: AsyncSession) -> set[str]:
    """Every site energy has something for: charging EVSEs, settings, circuits, DR."""
    found: set[str] = set()
    for column in (
        ChargingEvseRow.site_id,
        SiteSettingsRow.site_id,
        CircuitRow.site_id,
        DemandResponseRow.site_id,
    ):
        found |= set(await session.scalars(select(column).distinct()))
    found.discard("")
    return found


async def unplaced_stations(session: AsyncSession) -> set[str]:
    """Stations charging whose site is not known yet (the stations service was down)."""
    rows = await session.scalars(
        select(ChargingEvseRow.station_id).where(ChargingEvseRow.site_id == "").distinct()
    )
    return set(rows)


async def place_station(session: AsyncSession, station_id: str, site_id: str) -> None:
    for row in await session.scalars(
        select(ChargingEvseRow).where(ChargingEvseRow.station_id == station_id)
    ):
        row.site_id = site_id


async def overlapping_demand_response(
    session: AsyncSession, site_id: str, starts_at: datetime, ends_at: datetime
) -> DemandResponseRow | None:
    """An open event of the site whose window meets [starts_at, ends_at)."""
    query = (
        select(DemandResponseRow)
        .where(DemandResponseRow.site_id == site_id)
        .where(DemandResponseRow.state.in_(OPEN_DR_STATES))
        .where(DemandResponseRow.starts_at < ends_at)
        .where(DemandResponseRow.ends_at > starts_at)
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def record_allocation(session: AsyncSession, row: AllocationRow, keep: int) -> None:
    """Store one allocation and drop the site's oldest beyond `keep`."""
    session.add(row)
    await session.flush()
    count = await session.scalar(
        select(func.count()).select_from(AllocationRow).where(AllocationRow.site_id == row.site_id)
    )
    if count and count > keep:
        oldest_kept = await session.scalar(
            select(AllocationRow.id)
            .where(AllocationRow.site_id == row.site_id)
            .order_by(AllocationRow.id.desc())
            .offset(keep - 1)
            .limit(1)
        )
        if oldest_kept is not None:
            await session.execute(
                delete(AllocationRow)
                .where(AllocationRow.site_id == row.site_id)
                .where(AllocationRow.id < oldest_kept)
            )


async def allocation_page(
    session: AsyncSession, site_id: str, before_id: int | None, size: int
) -> list[AllocationRow]:
    """Newest first; `before_id` continues after the last row of the previous page."""
    query = select(AllocationRow).where(AllocationRow.site_id == site_id)
    if before_id is not None:
        query = query.where(AllocationRow.id < before_id)
    query = query.order_by(AllocationRow.id.desc()).limit(size)
    return list(await session.scalars(query))
