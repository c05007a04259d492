"""Session and user statistics out of SQL: closed sessions, refused tokens, meter readings.

A bucket (local day or month, hour of day, day of week) joins three sources: the closed
sessions started in it (counts, energy, durations, no energy flow), the tokens refused in it
(rejected authorizations), and the register readings of its sessions, which say when energy
began and stopped flowing (time to start, idle after charging: the first and last positive
step of the meter, energy counted as spread evenly between two readings, the same model as
the energy windows). The buckets are few (at most 370 days), so they are merged and paged
here; user rows are per token, their group and source from the authorization decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, String, and_, column, func, select, values
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics.models import (
    ClosedSessionRow,
    MeterReadingRow,
    RefusedAuthorizationRow,
    SessionTokenRow,
)
from chargegrid.analytics.query import Breakdown, Grain, Kind, Query
from chargegrid.platform.db_types import UtcDateTime
from chargegrid.platform.grpc.errors import InvalidArgument

S = ClosedSessionRow
A = RefusedAuthorizationRow
T = SessionTokenRow
M = MeterReadingRow
#: Rows per IN list: far below every driver's bound-parameter limit.
CHUNK = 500
ROAMING_PREFIX = "ocpi:"
#: A rise smaller than this is float noise (a kWh sample scaled to Wh), not energy flowing.
FLOW_STEP_WH = 1e-3


@dataclass(frozen=True, slots=True)
class SessionBucket:
    label: str
    sessions: int
    no_energy: int
    rejected: int
    energy_wh: float
    average_duration_s: float
    average_idle_s: float
    average_time_to_start_s: float
    average_idle_after_charging_s: float

    @property
    def failed_starts(self) -> int:
        return self.no_energy + self.rejected


@dataclass(frozen=True, slots=True)
class UserRow:
    id_token: str
    token_type: str
    group_id: str
    token_source: str
    sessions: int
    energy_wh: float
    returning: bool

    @property
    def roaming(self) -> bool:
        return self.token_source.startswith(ROAMING_PREFIX)


@dataclass(frozen=True, slots=True)
class GroupRow:
    group_id: str
    tokens: int
    sessions: int
    energy_wh: float
    returning_tokens: int


@dataclass(frozen=True, slots=True)
class UserSummary:
    tokens: int = 0
    returning_tokens: int = 0
    sessions: int = 0
    energy_wh: float = 0.0
    roaming_tokens: int = 0
    roaming_sessions: int = 0
    roaming_energy_wh: float = 0.0


def _where(table: Any, at: Any, query: Query) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [at >= query.start_s, at < query.end_s]
    scope = query.scope
    if scope.kind is Kind.SITE:
        where.append(table.site_id == scope.site_id)
    elif scope.kind is Kind.STATION:
        where.append(table.station_id == scope.station_id)
    elif scope.kind is Kind.EVSE:
        where += [table.station_id == scope.station_id, table.evse_id == scope.evse_id]
    return where


def _key(table: Any, query: Query, breakdown: Breakdown) -> Any:
    if breakdown is Breakdown.HOUR_OF_DAY:
        return table.hour_of_day
    if breakdown is Breakdown.DAY_OF_WEEK:
        return table.day_of_week
    if breakdown is Breakdown.TIME and query.grain is Grain.DAY:
        return table.label_day
    if breakdown is Breakdown.TIME and query.grain is Grain.MONTH:
        return table.label_month
    raise InvalidArgument(
        "session statistics are per day or month, or by hour of day or day of week"
    )


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


async def _flows(
    session: AsyncSession, transactions: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[datetime, datetime]]:
    """Per transaction, when energy began and stopped flowing: the start of the first rise
    of the register and the end of the last (absent when it never rose). The database
    pairs each reading with the one before it, so a session's readings never reach Python."""
    found: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    chain = (M.station_id, M.transaction_id)
    order = (M.at, M.rank)
    for chunk in _chunks(transactions):
        # Joined to a VALUES list, not `(a, b) IN (...)`: SQLite scans the whole table for
        # the latter and searches the primary key for each pair of the former.
        wanted = (
            values(column("station_id", String), column("transaction_id", String), name="wanted")
            .data(list(chunk))
            .cte("wanted")
        )
        steps = (
            select(
                M.station_id,
                M.transaction_id,
                M.at,
                M.wh,
                func.lag(M.at, type_=UtcDateTime())
                .over(partition_by=chain, order_by=order)
                .label("before_at"),
                func.lag(M.wh, type_=Float())
                .over(partition_by=chain, order_by=order)
                .label("before_wh"),
            )
            .select_from(wanted)
            .join(
                M,
                and_(
                    M.station_id == wanted.c.station_id,
                    M.transaction_id == wanted.c.transaction_id,
                ),
            )
            .subquery()
        )
        rows = await session.execute(
            select(
                steps.c.station_id,
                steps.c.transaction_id,
                func.min(steps.c.before_at),
                func.max(steps.c.at),
            )
            .where(steps.c.wh > steps.c.before_wh + FLOW_STEP_WH)
            .group_by(steps.c.station_id, steps.c.transaction_id)
        )
        for station_id, transaction_id, first, last in rows.all():
            found[(station_id, transaction_id)] = (first, last)
    return found


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


async def session_stats(
    session: AsyncSession, query: Query, breakdown: Breakdown
) -> list[SessionBucket]:
    """Closed sessions started and tokens refused in the range, per bucket, this page."""
    key = _key(S, query, breakdown)
    closed = (
        await session.execute(
            select(
                key,
                S.session_id,
                S.station_id,
                S.started_at,
                S.duration_s,
                S.idle_s,
                S.energy_wh,
                S.no_energy,
            ).where(*_where(S, S.started_at, query))
        )
    ).all()
    refused_key = _key(A, query, breakdown)
    refused_rows = await session.execute(
        select(refused_key, func.count()).where(*_where(A, A.at, query)).group_by(refused_key)
    )
    refused: dict[str, int] = {str(k): int(n) for k, n in refused_rows.all()}
    transactions = [
        (station_id, session_id[len(station_id) + 1 :])
        for _, session_id, station_id, *_, no_energy in closed
        if not no_energy
    ]
    flows = await _flows(session, transactions)
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in closed:
        grouped[str(row[0])].append(row)
    buckets = []
    for label in sorted(set(grouped) | set(refused)):
        rows = grouped.get(label, [])
        to_start: list[float] = []
        idle_after: list[float] = []
        for _, session_id, station_id, started_at, duration_s, *_ in rows:
            span = flows.get((station_id, session_id[len(station_id) + 1 :]))
            if span is None:
                continue
            first, last = span
            to_start.append(max(0.0, first.timestamp() - started_at))
            idle_after.append(max(0.0, started_at + duration_s - last.timestamp()))
        buckets.append(
            SessionBucket(
                label,
                len(rows),
                sum(int(r[7]) for r in rows),
                refused.get(label, 0),
                sum(float(r[6]) for r in rows),
                _mean([float(r[4]) for r in rows]),
                _mean([float(r[5]) for r in rows]),
                _mean(to_start),
                _mean(idle_after),
            )
        )
    return buckets[query.offset : query.offset + query.size]


async def _returning(session: AsyncSession, tokens: Sequence[str], before_s: int) -> set[str]:
    """The tokens with a closed session anywhere before `before_s`."""
    earlier: set[str] = set()
    for chunk in _chunks(tokens):
        earlier |= set(
            (
                await session.scalars(
                    select(S.id_token)
                    .where(S.id_token.in_(list(chunk)), S.started_at < before_s)
                    .distinct()
                )
            ).all()
        )
    return earlier


async def users(session: AsyncSession, query: Query) -> list[UserRow]:
    """Every token with a closed session started in the range, most sessions first."""
    rows = (
        await session.execute(
            select(
                S.id_token,
                func.max(S.token_type),
                func.coalesce(func.max(T.group_id), ""),
                func.coalesce(func.max(T.token_source), ""),
                func.count(),
                func.sum(S.energy_wh),
            )
            .outerjoin(T, T.session_id == S.session_id)
            .where(*_where(S, S.started_at, query))
            .group_by(S.id_token)
            .order_by(func.count().desc(), S.id_token)
        )
    ).all()
    earlier = await _returning(session, [token for token, *_ in rows], query.start_s)
    return [
        UserRow(
            token,
            str(kind or ""),
            str(group),
            str(source),
            int(n),
            float(wh or 0),
            token in earlier,
        )
        for token, kind, group, source, n, wh in rows
    ]


def groups(rows: Iterable[UserRow]) -> list[GroupRow]:
    """Per token group ("" = no group), most sessions first."""
    by_group: dict[str, list[UserRow]] = defaultdict(list)
    for row in rows:
        by_group[row.group_id].append(row)
    found = [
        GroupRow(
            group,
            len(members),
            sum(m.sessions for m in members),
            sum(m.energy_wh for m in members),
            sum(m.returning for m in members),
        )
        for group, members in by_group.items()
    ]
    return sorted(found, key=lambda g: (-g.sessions, g.group_id))


def summary(rows: Sequence[UserRow]) -> UserSummary:
    roaming = [r for r in rows if r.roaming]
    return UserSummary(
        len(rows),
        sum(r.returning for r in rows),
        sum(r.sessions for r in rows),
        sum(r.energy_wh for r in rows),
        len(roaming),
        sum(r.sessions for r in roaming),
        sum(r.energy_wh for r in roaming),
    )
