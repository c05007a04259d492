"""Sites: where stations stand, with the grid limits energy management will need."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.platform.grpc.errors import AlreadyExists, FailedPrecondition, NotFound
from chargegrid.stations.models import SiteRow, StationRow
from chargegrid.stations.store.paging import Page

SITE_FIELDS = (
    "name",
    "address",
    "city",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "timezone",
    "grid_limit_a",
    "grid_phases",
)


async def get_site(session: AsyncSession, site_id: str) -> SiteRow:
    site = await session.get(SiteRow, site_id)
    if site is None:
        raise NotFound(f"site {site_id!r} does not exist")
    return site


async def create_site(
    session: AsyncSession, site_id: str, fields: dict[str, object], now: datetime
) -> SiteRow:
    if await session.get(SiteRow, site_id) is not None:
        raise AlreadyExists(f"site {site_id!r} already exists")
    site = SiteRow(id=site_id, created_at=now, **fields)
    session.add(site)
    await session.flush()
    return site


async def update_site(session: AsyncSession, site_id: str, fields: dict[str, object]) -> SiteRow:
    site = await get_site(session, site_id)
    for name, value in fields.items():
        setattr(site, name, value)
    await session.flush()
    return site


async def delete_site(session: AsyncSession, site_id: str) -> None:
    site = await get_site(session, site_id)
    count = await station_counts(session, [site_id])
    if count.get(site_id, 0):
        raise FailedPrecondition(
            f"site {site_id!r} still has {count[site_id]} station(s); move or delete them first"
        )
    await session.delete(site)
    await session.flush()


async def list_sites(session: AsyncSession, page: Page) -> list[SiteRow]:
    """Up to page.size + 1 sites in id order (the extra one says another page exists)."""
    query = select(SiteRow).order_by(SiteRow.id).limit(page.size + 1)
    if page.after is not None:
        query = query.where(SiteRow.id > page.after)
    return list((await session.scalars(query)).all())


async def station_counts(session: AsyncSession, site_ids: list[str]) -> dict[str, int]:
    if not site_ids:
        return {}
    query = (
        select(StationRow.site_id, func.count())
        .where(StationRow.site_id.in_(site_ids))
        .group_by(StationRow.site_id)
    )
    return {str(site): int(count) for site, count in (await session.execute(query)).all()}
