"""Closed local days of utilization, cached per port, so a year by day or month reads
days instead of replaying a year of state changes.

The figures stay those of the replay (ADR 016): a station's `utilization_days` are its
replay cut into closed local days up to `state_stations.valid_until_ms` (a local midnight),
and `state_ports` holds each port's facts at that instant. Ingest lowers `valid_until_ms` to
the instant of every change it stores, a late one included, so a query that finds a station
behind recomputes its days from the stored changes first. The part after `valid_until_ms`
(today) is replayed live from the stored facts. If anything does not fit (a port that
appeared after the cached instant, an ingest racing the refill), the caller replays all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics.buckets import buckets
from chargegrid.analytics.models import (
    StateChangeRow,
    StatePortRow,
    StateStationRow,
    UtilizationDayRow,
)
from chargegrid.analytics.query import Grain, Kind, Query, Scope
from chargegrid.analytics.timeline import STATES, Facts, Port, Row, overlaps, ports
from chargegrid.analytics.upsert import insert_new
from chargegrid.analytics.windows import zone

C = StateChangeRow
U = UtilizationDayRow
P = StatePortRow
T = StateStationRow
COLUMNS: Any = (
    C.station_id,
    C.evse_id,
    C.at_ms,
    C.signal,
    C.value,
    C.transaction_id,
    C.wh,
    C.event_id,
    C.site_id,
    C.timezone,
)


class Stale(Exception):
    """The cache cannot answer this query exactly: replay everything instead."""


def _midnight_ms(now_ms: int, timezone: str) -> int:
    local = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone(timezone))
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone(timezone))
    return int(midnight.astimezone(UTC).timestamp() * 1000)


async def _rows(session: AsyncSession, *where: ColumnElement[bool]) -> list[Row]:
    result = await session.execute(select(*COLUMNS).where(*where))
    return cast(list[Row], list(result.all()))


async def refill(session: AsyncSession, station: T, now_ms: int) -> None:
    """Recompute the station's closed days and facts up to its last local midnight."""
    target = _midnight_ms(now_ms, station.timezone)
    if station.valid_until_ms >= target:
        return
    rows = await _rows(session, C.station_id == station.station_id, C.at_ms < target)
    replayed = ports(rows, target, with_no_energy=False)
    await session.execute(delete(U).where(U.station_id == station.station_id))
    await session.execute(delete(P).where(P.station_id == station.station_id))
    days: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    first = min((r[2] for r in rows), default=target)
    for port in replayed:
        cut = buckets(
            datetime.fromtimestamp(_midnight_ms(first, port.timezone) / 1000, UTC),
            datetime.fromtimestamp(target / 1000, UTC),
            Grain.DAY,
            port.timezone,
        )
        seconds: dict[int, dict[str, float]] = defaultdict(lambda: dict.fromkeys(STATES, 0.0))
        for index, state, inside in overlaps(port.segments, [(a, b) for _, a, b in cut]):
            seconds[index][state] += inside / 1000
        for index, by_state in sorted(seconds.items()):
            label, start, _end = cut[index]
            days.append(
                {
                    "station_id": port.station_id,
                    "evse_id": port.evse_id,
                    "day_start_s": start // 1000,
                    "month_start_s": _month_start_s(start, port.timezone),
                    "site_id": port.site_id,
                    "label_day": label,
                    "label_month": label[:7],
                    **{f"{state}_s": by_state[state] for state in STATES},
                }
            )
        known = port.facts or Facts()
        facts.append(
            {
                "station_id": port.station_id,
                "evse_id": port.evse_id,
                "link": known.link,
                "station_status": known.station_status,
                "status": known.status,
                "charge": known.charge,
                "current": known.current,
                "began_ms": known.began,
                "site_id": port.site_id,
                "timezone": port.timezone,
            }
        )
    for i in range(0, len(days), 2000):
        await insert_new(session, U.__table__, days[i : i + 2000])
    await insert_new(session, P.__table__, facts)
    moved = await session.execute(
        update(T)
        .where(T.station_id == station.station_id, T.valid_until_ms == station.valid_until_ms)
        .values(valid_until_ms=target)
    )
    if not getattr(moved, "rowcount", 0):
        raise Stale(f"{station.station_id} changed while its days were recomputed")
    station.valid_until_ms = target


def _month_start_s(day_start_ms: int, timezone: str) -> int:
    local = datetime.fromtimestamp(day_start_ms / 1000, UTC).astimezone(zone(timezone))
    first = datetime(local.year, local.month, 1, tzinfo=zone(timezone))
    return int(first.astimezone(UTC).timestamp())


def _stations_where(scope: Scope) -> list[ColumnElement[bool]]:
    if scope.kind is Kind.SITE:
        return [T.site_id == scope.site_id]
    if scope.kind in (Kind.STATION, Kind.EVSE):
        return [T.station_id == scope.station_id]
    return []


@dataclass
class Seconds:
    """Per bucket label: seconds per state, and the bucket's first start (ms)."""

    by_label: dict[str, dict[str, float]]
    first: dict[str, int]

    def add(self, label: str, start_ms: int, state: str, seconds: float) -> None:
        self.by_label.setdefault(label, defaultdict(float))[state] += seconds
        self.first[label] = min(self.first.get(label, start_ms), start_ms)


async def cached_seconds(session: AsyncSession, query: Query, now_ms: int) -> Seconds:
    """Seconds per state and label for a DAY or MONTH query: cached closed days plus the
    live replay from each station's cached instant; Stale when that cannot be exact."""
    scope = query.scope
    stations = list((await session.scalars(select(T).where(*_stations_where(scope)))).all())
    for station in stations:
        await refill(session, station, now_ms)
    out = Seconds({}, {})
    if query.grain is Grain.DAY:
        bucket, label = U.day_start_s, U.label_day
    else:
        bucket, label = U.month_start_s, U.label_month
    where: list[ColumnElement[bool]] = [bucket >= query.start_s, bucket < query.end_s]
    if scope.kind is Kind.SITE:
        where.append(U.site_id == scope.site_id)
    elif scope.kind is Kind.STATION:
        where.append(U.station_id == scope.station_id)
    elif scope.kind is Kind.EVSE:
        where += [U.station_id == scope.station_id, U.evse_id == scope.evse_id]
    sums = [getattr(U, f"{state}_s") for state in STATES]
    statement = select(label, bucket, *[func.sum(c) for c in sums]).where(*where)
    for name, start_s, *values in (await session.execute(statement.group_by(label, bucket))).all():
        for state, value in zip(STATES, values, strict=True):
            if value:
                out.add(str(name), int(start_s) * 1000, state, float(value))
    await _live(session, query, stations, now_ms, out)
    return out


async def resumed_ports(session: AsyncSession, scope: Scope, horizon_ms: int) -> list[Port]:
    """The scope's ports replayed up to `horizon_ms` (at or after every station's cached
    instant) from their stored facts; Stale when that cannot be exact."""
    where = _stations_where(scope)
    stations = list((await session.scalars(select(T).where(*where))).all())
    for station in stations:
        await refill(session, station, horizon_ms)
    found = await _resume(session, stations, horizon_ms)
    if scope.kind is Kind.EVSE:
        found = [p for p in found if p.evse_id == scope.evse_id]
    if scope.kind is Kind.SITE:
        found = [p for p in found if p.site_id == scope.site_id]
    return found


async def _resume(session: AsyncSession, stations: list[T], horizon: int) -> list[Port]:
    since = {s.station_id: s.valid_until_ms for s in stations}
    rows: list[Row] = []
    resume: dict[tuple[str, int], Facts] = {}
    for station in stations:
        if station.valid_until_ms >= horizon:
            continue
        found = await _rows(
            session,
            C.station_id == station.station_id,
            C.at_ms >= station.valid_until_ms,
            C.at_ms < horizon,
        )
        stored = (await session.scalars(select(P).where(P.station_id == station.station_id))).all()
        for p in stored:
            resume[(p.station_id, p.evse_id)] = Facts(
                p.link,
                p.station_status,
                p.status,
                p.charge,
                p.current,
                p.began_ms,
                p.site_id,
                p.timezone,
            )
        if {r[1] for r in found if r[1] > 0} - {p.evse_id for p in stored}:
            earlier = await session.scalar(
                select(C.event_id)
                .where(C.station_id == station.station_id, C.at_ms < station.valid_until_ms)
                .limit(1)
            )
            if earlier is not None:  # its station's earlier facts are not stored for it
                raise Stale(f"a port of {station.station_id} appeared after its cached days")
        rows += found
    return ports(rows, horizon, False, resume, since)


async def _live(
    session: AsyncSession, query: Query, stations: list[T], now_ms: int, out: Seconds
) -> None:
    reach = int(query.end.timestamp() * 1000) + 32 * 86_400_000
    horizon = min(now_ms, reach)
    replayed = await _resume(session, stations, horizon)
    cuts: dict[str, list[tuple[str, int, int]]] = {}
    for port in replayed:
        if query.scope.kind is Kind.EVSE and port.evse_id != query.scope.evse_id:
            continue
        if query.scope.kind is Kind.SITE and port.site_id != query.scope.site_id:
            continue
        if port.timezone not in cuts:
            cuts[port.timezone] = buckets(query.start, query.end, query.grain, port.timezone)
        mine = cuts[port.timezone]
        for index, state, inside in overlaps(port.segments, [(a, b) for _, a, b in mine]):
            label, start, _end = mine[index]
            out.add(label, start, state, inside / 1000)
