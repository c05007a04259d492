"""Utilization at query time: each port's timeline cut into the query's local buckets.

The shares of a bucket are the connector seconds spent in each state over the connector
seconds whose state is known (summed over the scope's ports), up to now. One site, station
or EVSE buckets on its site's clock, ordered by start; the network groups its sites by local
label ("2026-03-29" is each site's own 29 March) except 15-minute windows, which are UTC
instants, as energy does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics import utilization_cache
from chargegrid.analytics.buckets import buckets
from chargegrid.analytics.models import StateChangeRow
from chargegrid.analytics.query import Grain, Kind, Query, Scope
from chargegrid.analytics.timeline import STATES, Port, Row, overlaps, ports

C = StateChangeRow


@dataclass(frozen=True, slots=True)
class UtilizationBucket:
    label: str
    start_s: int
    known_s: float
    #: State -> share of the known seconds.
    shares: dict[str, float]


def scope_filter(scope: Scope) -> list[ColumnElement[bool]]:
    if scope.kind is Kind.SITE:
        return [C.site_id == scope.site_id]
    if scope.kind is Kind.STATION:
        return [C.station_id == scope.station_id]
    if scope.kind is Kind.EVSE:
        return [C.station_id == scope.station_id, or_(C.evse_id == 0, C.evse_id == scope.evse_id)]
    return []


async def scope_ports(
    session: AsyncSession, scope: Scope, horizon_ms: int, with_no_energy: bool = True
) -> list[Port]:
    """The scope's ports replayed from every change before `horizon_ms`."""
    where = [*scope_filter(scope), C.at_ms < horizon_ms]
    result = await session.execute(select(*utilization_cache.COLUMNS).where(*where))
    rows = cast(list[Row], list(result.all()))
    found = ports(rows, horizon_ms, with_no_energy)
    if scope.kind is Kind.EVSE:
        found = [p for p in found if p.evse_id == scope.evse_id]
    if scope.kind is Kind.SITE:
        found = [p for p in found if p.site_id == scope.site_id]
    return found


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def utilization(
    session: AsyncSession, query: Query, now: datetime
) -> list[UtilizationBucket]:
    """This page of the query's buckets (those with known connector time). Days and months
    of one site's clock come from the cached closed days (utilization_cache) when they can
    answer exactly; everything else, and whatever they cannot, replays the changes."""
    if query.grain in (Grain.DAY, Grain.MONTH):
        try:
            cached = await utilization_cache.cached_seconds(session, query, _ms(now))
            await session.flush()
        except (utilization_cache.Stale, OperationalError):
            # Cannot be exact, or the refill lost a write race with ingest: replay instead.
            await session.rollback()
        else:
            try:
                await session.commit()  # the refilled days
            except OperationalError:
                await session.rollback()  # the figures stand; the refill is redone later
            return _page(cached.by_label, cached.first, query)
    return await replayed(session, query, now)


async def replayed(session: AsyncSession, query: Query, now: datetime) -> list[UtilizationBucket]:
    """The query answered by replaying every change of its scope."""
    network = query.scope.kind is Kind.NETWORK
    utc_labels = network and query.grain is Grain.QUARTER
    # The longest bucket that begins before the end reaches at most a month past it.
    reach = _ms(query.end) + 32 * 86_400_000
    horizon = min(_ms(now), reach)
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    first: dict[str, int] = {}
    cuts: dict[str, list[tuple[str, int, int]]] = {}
    for port in await scope_ports(session, query.scope, horizon, with_no_energy=False):
        zone = "UTC" if utc_labels else port.timezone
        if zone not in cuts:
            cuts[zone] = buckets(query.start, query.end, query.grain, zone)
        mine = cuts[zone]
        for index, state, inside in overlaps(port.segments, [(a, b) for _, a, b in mine]):
            label, start, _end = mine[index]
            if utc_labels:
                label = datetime.fromtimestamp(start / 1000, UTC).strftime("%Y-%m-%dT%H:%M+00:00")
            seconds[label][state] += inside / 1000
            first[label] = min(first.get(label, start), start)
    return _page(seconds, first, query)


def _page(
    seconds: Mapping[str, Mapping[str, float]], first: Mapping[str, int], query: Query
) -> list[UtilizationBucket]:
    ordered = sorted(seconds, key=lambda label: (first[label], label))
    page = ordered[query.offset : query.offset + query.size]
    out = []
    for label in page:
        by_state = seconds[label]
        known = sum(by_state.values())
        out.append(
            UtilizationBucket(
                label,
                first[label] // 1000,
                known,
                {state: by_state.get(state, 0.0) / known for state in STATES},
            )
        )
    return out
