"""Energy of a site or of the network, read from the coarsest rollup that answers.

A site's 15-minute, hour and day buckets are rows of `energy_site_buckets` (read in index
order, no GROUP BY); its months group its days by label. The network's rows are one per
bucket start and local label (one per time zone its sites use), grouped by label as the
network has always been ("2026-03-29" is each site's own 29 March); its 15-minute windows
are UTC instants, one row each. Buckets are those that begin in the range, as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chargegrid.analytics.models import EnergyNetworkBucketRow, EnergySiteBucketRow
from chargegrid.analytics.query import Grain, Kind, Query
from chargegrid.analytics.rollups import DAY, HOUR, QUARTER

SB = EnergySiteBucketRow
NB = EnergyNetworkBucketRow
GRAIN_NAMES = {Grain.QUARTER: QUARTER, Grain.HOUR: HOUR, Grain.DAY: DAY, Grain.MONTH: DAY}
#: A raw row: (label, bucket start in epoch seconds, Wh).
Bucket = tuple[str, int, float]


def answers(query: Query) -> bool:
    return query.scope.kind in (Kind.SITE, Kind.NETWORK)


def _utc_label(start_s: int) -> str:
    return datetime.fromtimestamp(start_s, UTC).strftime("%Y-%m-%dT%H:%M+00:00")


def _where(table: Any, query: Query) -> list[ColumnElement[bool]]:
    where = [
        table.grain == GRAIN_NAMES[query.grain],
        table.bucket_start >= query.start_s,
        table.bucket_start < query.end_s,
    ]
    if query.scope.kind is Kind.SITE:
        where.insert(0, SB.site_id == query.scope.site_id)
    return where


def _statement(table: Any, query: Query) -> Any:
    where = _where(table, query)
    if query.grain is Grain.MONTH:
        month = func.substr(table.label, 1, 7)
        first = func.min(table.bucket_start)
        return (
            select(month, first, func.sum(table.wh))
            .where(*where)
            .group_by(month)
            .order_by(first, month)
        )
    if table is SB or query.grain is Grain.QUARTER:
        return (
            select(table.label, table.bucket_start, table.wh)
            .where(*where)
            .order_by(table.bucket_start)
        )
    first = func.min(table.bucket_start)
    return (
        select(table.label, first, func.sum(table.wh))
        .where(*where)
        .group_by(table.label)
        .order_by(first, table.label)
    )


async def rollup_energy(session: AsyncSession, query: Query) -> tuple[list[Bucket], float]:
    """This page of (label, start, Wh) for a site or network query, and the range's total."""
    table = SB if query.scope.kind is Kind.SITE else NB
    statement = _statement(table, query).offset(query.offset).limit(query.size)
    # Core, not the ORM session: a 5,000-row page fetched in 4 ms of CPU instead of 7.
    connection = await session.connection()
    rows = (await connection.execute(statement)).all()
    page: list[Bucket]
    if table is NB and query.grain is Grain.QUARTER:
        page = [(_utc_label(start), start, wh) for _, start, wh in rows]
    else:
        page = [(label, start, wh) for label, start, wh in rows]
    if table is SB and query.grain in (Grain.QUARTER, Grain.HOUR):
        total = await _site_total(connection, query)
    else:
        total = await _sum(connection, table, _where(table, query))
    return page, total


async def _sum(connection: AsyncConnection, table: Any, where: list[ColumnElement[bool]]) -> float:
    found = await connection.scalar(select(func.coalesce(func.sum(table.wh), 0.0)).where(*where))
    return float(found or 0.0)


async def _site_total(connection: AsyncConnection, query: Query) -> float:
    """A site's total over its 15-minute or hour buckets, read mostly from its days.

    One site's days tile its timeline, and every window lies in one of them, so the windows
    between the first and the last day start in the range sum to those days; only the
    windows before the first and after the last are read one by one (a day's worth each,
    not 35,040 rows for a year)."""
    site, grain = SB.site_id == query.scope.site_id, GRAIN_NAMES[query.grain]
    days = [site, SB.grain == DAY, SB.bucket_start >= query.start_s, SB.bucket_start < query.end_s]
    first, last = (
        await connection.execute(
            select(func.min(SB.bucket_start), func.max(SB.bucket_start)).where(*days)
        )
    ).one()
    fine = [site, SB.grain == grain]
    if first is None:
        return await _sum(
            connection, SB, [*fine, SB.bucket_start >= query.start_s, SB.bucket_start < query.end_s]
        )
    whole_days = await _sum(
        connection, SB, [*days[:2], SB.bucket_start >= first, SB.bucket_start < last]
    )
    edges = await _sum(
        connection,
        SB,
        [
            *fine,
            or_(
                and_(SB.bucket_start >= query.start_s, SB.bucket_start < first),
                and_(SB.bucket_start >= last, SB.bucket_start < query.end_s),
            ),
        ],
    )
    return whole_days + edges
