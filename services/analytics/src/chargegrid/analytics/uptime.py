"""Uptime per US NEVI 23 CFR 680.116(b), the outages behind it, operator exclusions.

A port is up when it is online and available or in use and able to deliver power; it is
out while offline, Faulted, Unavailable, or in a transaction that ended having delivered no
energy (no energy flow). For each local month of the query, a port's uptime covers the 12
local months ending with it: (525,600 - (outage - excluded minutes)) / 525,600, where
outage minutes are the union of its outages (overlapping causes count once) up to now and
excluded minutes the part of them inside operator-excluded periods (planned maintenance,
grid outages) of its EVSE, station or site. Unknown time (before a port's first event)
is no outage: nothing says it was out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics.buckets import buckets
from chargegrid.analytics.intervals import Interval, clip, length, shared, union
from chargegrid.analytics.models import UptimeExclusionRow
from chargegrid.analytics.query import Grain, Kind, Query, Scope
from chargegrid.analytics.timeline import CAUSES, NO_ENERGY_FLOW, Port
from chargegrid.analytics.utilization import scope_ports
from chargegrid.analytics.windows import zone
from chargegrid.platform.grpc.errors import InvalidArgument

X = UptimeExclusionRow
MINUTES_PER_YEAR = 525_600
MINUTE_MS = 60_000
REASONS = frozenset({"planned_maintenance", "grid_outage"})


@dataclass(frozen=True, slots=True)
class Exclusion:
    id: str
    site_id: str
    station_id: str
    evse_id: int
    start_s: int
    end_s: int
    reason: str
    note: str

    def covers(self, port: Port) -> bool:
        if self.site_id:
            return port.site_id == self.site_id
        return port.station_id == self.station_id and self.evse_id in (0, port.evse_id)


@dataclass(frozen=True, slots=True)
class Outage:
    station_id: str
    evse_id: int
    start_ms: int
    end_ms: int
    cause: str
    excluded: bool


@dataclass(frozen=True, slots=True)
class PortUptime:
    station_id: str
    evse_id: int
    site_id: str
    month: str
    uptime_percent: float
    outage_minutes: float
    excluded_minutes: float


@dataclass(frozen=True, slots=True)
class UptimeFigures:
    uptime_percent: float
    ports: list[PortUptime]
    outages: list[Outage]


def _exclusion(row: UptimeExclusionRow) -> Exclusion:
    return Exclusion(
        row.id,
        row.site_id,
        row.station_id,
        row.evse_id,
        row.start_s,
        row.end_s,
        row.reason,
        row.note,
    )


async def add_exclusion(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, reason: str, note: str
) -> Exclusion:
    if scope.kind is Kind.NETWORK:
        raise InvalidArgument("an exclusion covers a site, a station or an EVSE, not the network")
    if end <= start:
        raise InvalidArgument(f"the exclusion ends ({end.isoformat()}) before it starts")
    if reason not in REASONS:
        raise InvalidArgument(f"unknown reason {reason!r}: use planned_maintenance or grid_outage")
    if len(note) > 500:
        raise InvalidArgument("the note is longer than 500 characters")
    row = UptimeExclusionRow(
        id=str(uuid.uuid4()),
        site_id=scope.site_id,
        station_id=scope.station_id,
        evse_id=scope.evse_id,
        start_s=int(start.timestamp()),
        end_s=int(end.timestamp()),
        reason=reason,
        note=note,
    )
    session.add(row)
    await session.flush()
    return _exclusion(row)


async def list_exclusions(
    session: AsyncSession, scope: Scope, start_s: int | None = None, end_s: int | None = None
) -> list[Exclusion]:
    """Exclusions that overlap [start, end) and apply to something in the scope."""
    where: list[ColumnElement[bool]] = []
    if scope.kind is Kind.SITE:
        where.append(X.site_id == scope.site_id)
    elif scope.kind is Kind.STATION:
        where.append(X.station_id == scope.station_id)
    elif scope.kind is Kind.EVSE:
        where += [X.station_id == scope.station_id, or_(X.evse_id == 0, X.evse_id == scope.evse_id)]
    if start_s is not None:
        where.append(X.end_s > start_s)
    if end_s is not None:
        where.append(X.start_s < end_s)
    rows = (await session.scalars(select(X).where(*where).order_by(X.start_s, X.id))).all()
    return [_exclusion(r) for r in rows]


async def remove_exclusion(session: AsyncSession, exclusion_id: str) -> bool:
    result = await session.execute(delete(X).where(X.id == exclusion_id))
    return bool(getattr(result, "rowcount", 0))


def outages_of(port: Port) -> list[tuple[int, int, str]]:
    """The port's outages in time order: its out states, and transactions with no energy."""
    found = [(a, b, CAUSES[state]) for a, b, state in port.segments if state in CAUSES]
    found += [(a, b, NO_ENERGY_FLOW) for a, b in port.no_energy]
    return sorted(found)


def _year_before(month_start: datetime, timezone: str) -> datetime:
    """The start of the 12 local months that end with the month beginning at `month_start`."""
    local = month_start.astimezone(zone(timezone))
    year, month = local.year, local.month - 11
    if month <= 0:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=zone(timezone)).astimezone(UTC)


def port_uptime(
    port: Port, excluded: list[Interval], query: Query, now_ms: int
) -> list[PortUptime]:
    out_times = union((a, b) for a, b, _ in outages_of(port))
    figures = []
    for month, start_ms, end_ms in buckets(query.start, query.end, Grain.MONTH, port.timezone):
        month_start = datetime.fromtimestamp(start_ms / 1000, UTC)
        since = int(_year_before(month_start, port.timezone).timestamp() * 1000)
        outage = clip(out_times, since, min(end_ms, now_ms))
        outage_min = length(outage) / MINUTE_MS
        excluded_min = shared(outage, excluded) / MINUTE_MS
        counted = outage_min - excluded_min
        figures.append(
            PortUptime(
                port.station_id,
                port.evse_id,
                port.site_id,
                month,
                (MINUTES_PER_YEAR - counted) / MINUTES_PER_YEAR * 100,
                outage_min,
                excluded_min,
            )
        )
    return figures


async def uptime(session: AsyncSession, query: Query, now: datetime) -> UptimeFigures:
    if query.grain is not Grain.MONTH:
        raise InvalidArgument(
            "uptime is computed per month (over 12 months): use granularity month"
        )
    now_ms = int(now.timestamp() * 1000)
    horizon = min(now_ms, int((query.end + timedelta(days=32)).timestamp() * 1000))
    found = await scope_ports(session, query.scope, horizon)
    year_ago = int((query.start - timedelta(days=366)).timestamp())
    exclusions = await list_exclusions(session, Scope(Kind.NETWORK), year_ago, horizon // 1000)
    per_port: list[PortUptime] = []
    listed: list[Outage] = []
    range_start, range_end = int(query.start.timestamp() * 1000), int(query.end.timestamp() * 1000)
    for port in found:
        excluded = union((e.start_s * 1000, e.end_s * 1000) for e in exclusions if e.covers(port))
        per_port += port_uptime(port, excluded, query, now_ms)
        for a, b, cause in outages_of(port):
            if a < range_end and b > range_start:
                covered = shared([(a, b)], excluded) == b - a
                listed.append(Outage(port.station_id, port.evse_id, a, b, cause, covered))
    listed.sort(key=lambda o: (o.start_ms, o.station_id, o.evse_id, o.cause))
    last = max((p.month for p in per_port), default="")
    ports_last = [p for p in per_port if p.month == last]
    counted = sum(p.outage_minutes - p.excluded_minutes for p in ports_last)
    total = MINUTES_PER_YEAR * len(ports_last)
    percent = (total - counted) / total * 100 if total else 100.0
    return UptimeFigures(percent, per_port, listed[query.offset : query.offset + query.size])
