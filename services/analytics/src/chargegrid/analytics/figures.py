"""Read the figures out of SQL: energy buckets, daily/monthly peaks, revenue.

Energy reads the table of its granularity (15-minute windows, local hours, local days;
months are GROUP BYs of days), each by an index on (site, bucket start), so a year of one
site reads a few hundred day rows; peaks group the windows per site. Nothing here reads a
topic or an in-memory table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics.models import (
    EnergyDayRow,
    EnergyHourRow,
    EnergyWindowRow,
    RevenueRow,
)
from chargegrid.analytics.query import Grain, Kind, Query, Scope
from chargegrid.platform.grpc.errors import InvalidArgument

W = EnergyWindowRow
H = EnergyHourRow
D = EnergyDayRow
R = RevenueRow
HOURS = {Grain.QUARTER: 0.25, Grain.HOUR: 1.0}
MICROS = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class EnergyBucket:
    label: str
    #: Epoch seconds: a 5,000-bucket page spends more on datetimes than on SQL otherwise.
    start_s: int
    energy_wh: float
    average_power_w: float


@dataclass(frozen=True, slots=True)
class Peak:
    site_id: str
    label: str
    window_start: datetime
    peak_power_w: float


@dataclass(frozen=True, slots=True)
class RevenueBucket:
    site_id: str
    label: str
    tariff_id: str
    currency: str
    total_excl_vat: Decimal
    total_incl_vat: Decimal
    sessions: int
    energy_wh: float


def _label(grain: Grain) -> Any:
    return {
        Grain.QUARTER: W.label_quarter,
        Grain.HOUR: W.label_hour,
        Grain.DAY: W.label_day,
        Grain.MONTH: W.label_month,
    }[grain]


def _scope(table: Any, scope: Scope) -> list[ColumnElement[bool]]:
    if scope.kind is Kind.SITE:
        return [table.site_id == scope.site_id]
    if scope.kind is Kind.STATION:
        return [table.station_id == scope.station_id]
    if scope.kind is Kind.EVSE:
        return [table.station_id == scope.station_id, table.evse_id == scope.evse_id]
    return []


def _windows(query: Query) -> list[ColumnElement[bool]]:
    return [
        *_scope(W, query.scope),
        W.window_start >= query.start_s,
        W.window_start < query.end_s,
    ]


def _at(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(int(epoch_s), UTC)


def _page(statement: Any, query: Query) -> Any:
    return statement.offset(query.offset).limit(query.size)


def _source(grain: Grain) -> tuple[Any, Any, Any]:
    """The table a granularity reads, its bucket start column and its label column."""
    if grain is Grain.QUARTER:
        return W, W.window_start, W.label_quarter
    if grain is Grain.HOUR:
        return H, H.hour_start, H.label_hour
    if grain is Grain.DAY:
        return D, D.day_start, D.label_day
    return D, D.day_start, D.label_month


async def energy(session: AsyncSession, query: Query) -> tuple[list[EnergyBucket], float]:
    """This page of buckets (those that begin in the range), and the energy of them all.

    One site, station or EVSE has one clock, so its buckets group by their start (the
    index order, no sort). The network groups its sites by local label ("2026-03-29" is
    each site's own 29 March), except 15-minute windows, which are UTC instants."""
    table, bucket, label = _source(query.grain)
    where = [*_scope(table, query.scope), bucket >= query.start_s, bucket < query.end_s]
    first = func.min(bucket)
    by_start = query.grain is Grain.QUARTER or (
        query.scope.kind is not Kind.NETWORK and query.grain is not Grain.MONTH
    )
    key = bucket if by_start else label
    statement = (
        select(func.min(label), first, func.sum(table.wh))
        .where(*where)
        .group_by(key)
        .order_by(first if not by_start else bucket)
    )
    utc_labels = query.grain is Grain.QUARTER and query.scope.kind is Kind.NETWORK
    hours = HOURS.get(query.grain, 0.0)
    buckets = [
        EnergyBucket(
            _at(start).strftime("%Y-%m-%dT%H:%M+00:00") if utc_labels else name,
            int(start),
            float(wh),
            float(wh) / hours if hours else 0.0,
        )
        for name, start, wh in (await session.execute(_page(statement, query))).all()
    ]
    total = await session.scalar(select(func.coalesce(func.sum(table.wh), 0.0)).where(*where))
    return buckets, float(total or 0.0)


async def peaks(session: AsyncSession, query: Query) -> list[Peak]:
    """Per site and local day or month, the 15-minute window of highest average power."""
    if query.grain not in (Grain.DAY, Grain.MONTH):
        raise InvalidArgument("peaks are per day or per month: use granularity day or month")
    label = _label(query.grain).label("label")
    per_window = (
        select(W.site_id, label, W.window_start, func.sum(W.wh).label("wh"))
        .where(*_windows(query))
        .group_by(W.site_id, label, W.window_start)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=(per_window.c.site_id, per_window.c.label),
            order_by=(per_window.c.wh.desc(), per_window.c.window_start),
        )
        .label("rank")
    )
    ranked = select(per_window, rank).subquery()
    statement = (
        select(ranked.c.site_id, ranked.c.label, ranked.c.window_start, ranked.c.wh)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.label, ranked.c.site_id)
    )
    rows = (await session.execute(_page(statement, query))).all()
    return [Peak(site, name, _at(start), float(wh) * 4) for site, name, start, wh in rows]


async def revenue(session: AsyncSession, query: Query) -> list[RevenueBucket]:
    """CDR totals per site, local day or month of the session start, tariff and currency."""
    if query.grain not in (Grain.DAY, Grain.MONTH):
        raise InvalidArgument("revenue is per day or per month: use granularity day or month")
    if query.scope.kind is Kind.EVSE:
        raise InvalidArgument("revenue comes from CDRs, which are per station: no evse scope")
    label = R.label_day if query.grain is Grain.DAY else R.label_month
    where: list[ColumnElement[bool]] = [
        R.started_at >= query.start_s,
        R.started_at < query.end_s,
    ]
    if query.scope.kind is Kind.SITE:
        where.append(R.site_id == query.scope.site_id)
    elif query.scope.kind is Kind.STATION:
        where.append(R.station_id == query.scope.station_id)
    keys = (R.site_id, label, R.tariff_id, R.currency)
    statement = (
        select(
            *keys,
            func.sum(R.excl_vat_micros),
            func.sum(R.incl_vat_micros),
            func.count(),
            func.sum(R.energy_wh),
        )
        .where(*where)
        .group_by(*keys)
        .order_by(label, R.site_id, R.tariff_id, R.currency)
    )
    rows = (await session.execute(_page(statement, query))).all()
    return [
        RevenueBucket(
            site,
            name,
            tariff,
            currency,
            Decimal(int(excl)) / MICROS,
            Decimal(int(incl)) / MICROS,
            int(count),
            float(wh or 0.0),
        )
        for site, name, tariff, currency, excl, incl, count, wh in rows
    ]
