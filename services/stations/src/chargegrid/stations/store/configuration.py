"""Desired configuration per scope, its effective value per station, what stations report.

Precedence is vendor/model < site < station: the narrower scope wins. Keys are the gateway's
("HeartbeatInterval" on 1.6, "Component[.instance]/Variable[.instance]" on 2.x); which of
them a station receives is decided when applying, by its OCPP version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.stations.models import (
    ConfigStateRow,
    DesiredConfigRow,
    ReportedVariableRow,
    StationRow,
)
from chargegrid.stations.store.paging import Page

STATION, SITE, VENDOR_MODEL = "station", "site", "vendor_model"
#: Narrowest last, so later scopes override earlier ones.
PRECEDENCE = (VENDOR_MODEL, SITE, STATION)


@dataclass(frozen=True)
class Scope:
    kind: str
    value: str


@dataclass(frozen=True)
class Desired:
    value: str
    source: str


@dataclass(frozen=True)
class Reported:
    key: str
    value: str
    readonly: bool = False


def scopes_of(station: StationRow) -> list[Scope]:
    scopes = [Scope(VENDOR_MODEL, f"{station.vendor}/{station.model}")]
    if station.site_id:
        scopes.append(Scope(SITE, station.site_id))
    scopes.append(Scope(STATION, station.id))
    return scopes


async def configured_scopes(session: AsyncSession, scopes: Iterable[Scope]) -> set[Scope]:
    """Which of `scopes` hold any desired key, in one query (a boot storm asks for many)."""
    wanted = set(scopes)
    if not wanted:
        return set()
    query = (
        select(DesiredConfigRow.scope_kind, DesiredConfigRow.scope_value)
        .where(DesiredConfigRow.scope_value.in_(sorted({s.value for s in wanted})))
        .distinct()
    )
    found = {Scope(kind, value) for kind, value in (await session.execute(query)).all()}
    return found & wanted


async def get_desired(session: AsyncSession, scope: Scope) -> dict[str, str]:
    query = (
        select(DesiredConfigRow)
        .where(
            DesiredConfigRow.scope_kind == scope.kind, DesiredConfigRow.scope_value == scope.value
        )
        .order_by(DesiredConfigRow.key)
    )
    return {row.key: row.value for row in (await session.scalars(query)).all()}


async def set_desired(
    session: AsyncSession, scope: Scope, entries: dict[str, str], replace: bool
) -> dict[str, str]:
    """Merge (or replace) the scope's entries; an empty value removes its key."""
    where = (DesiredConfigRow.scope_kind == scope.kind, DesiredConfigRow.scope_value == scope.value)
    if replace:
        await session.execute(delete(DesiredConfigRow).where(*where))
    for key, value in entries.items():
        row = await session.get(DesiredConfigRow, (scope.kind, scope.value, key))
        if not value:
            if row is not None:
                await session.delete(row)
        elif row is None:
            session.add(
                DesiredConfigRow(
                    scope_kind=scope.kind, scope_value=scope.value, key=key, value=value
                )
            )
        else:
            row.value = value
    await session.flush()
    return await get_desired(session, scope)


async def delete_scope(session: AsyncSession, scope: Scope) -> None:
    await session.execute(
        delete(DesiredConfigRow).where(
            DesiredConfigRow.scope_kind == scope.kind, DesiredConfigRow.scope_value == scope.value
        )
    )


async def effective_desired(session: AsyncSession, station: StationRow) -> dict[str, Desired]:
    effective: dict[str, Desired] = {}
    for scope in scopes_of(station):
        for key, value in (await get_desired(session, scope)).items():
            effective[key] = Desired(value, scope.kind)
    return dict(sorted(effective.items()))


async def config_states(session: AsyncSession, station_id: str) -> dict[str, ConfigStateRow]:
    query = select(ConfigStateRow).where(ConfigStateRow.station_id == station_id)
    return {row.key: row for row in (await session.scalars(query)).all()}


async def record_attempt(
    session: AsyncSession,
    station_id: str,
    key: str,
    *,
    desired: str,
    status: str,
    at: datetime,
    reported: str | None = None,
) -> None:
    row = await session.get(ConfigStateRow, (station_id, key))
    if row is None:
        row = ConfigStateRow(station_id=station_id, key=key, reported_value=None)
        session.add(row)
    row.desired_value = desired
    row.status = status
    row.applied_at = at
    if reported is not None:
        row.reported_value = reported
    await session.flush()


async def store_reported(
    session: AsyncSession, station_id: str, values: list[Reported], at: datetime
) -> None:
    for item in values:
        row = await session.get(ReportedVariableRow, (station_id, item.key))
        if row is None:
            row = ReportedVariableRow(station_id=station_id, key=item.key)
            session.add(row)
        row.value = item.value
        row.readonly = item.readonly
        row.reported_at = at
    await session.flush()


async def list_reported(
    session: AsyncSession, station_id: str, prefix: str, page: Page
) -> list[ReportedVariableRow]:
    query = (
        select(ReportedVariableRow)
        .where(ReportedVariableRow.station_id == station_id)
        .order_by(ReportedVariableRow.key)
        .limit(page.size + 1)
    )
    if prefix:
        query = query.where(ReportedVariableRow.key.startswith(prefix, autoescape=True))
    if page.after is not None:
        query = query.where(ReportedVariableRow.key > page.after)
    return list((await session.scalars(query)).all())


async def reported_values(session: AsyncSession, station_id: str) -> dict[str, str]:
    query = select(ReportedVariableRow.key, ReportedVariableRow.value).where(
        ReportedVariableRow.station_id == station_id
    )
    return {key: value for key, value in (await session.execute(query)).all()}


async def stations_in_scope(session: AsyncSession, scope: Scope) -> list[str]:
    """Ids of the online stations a scope's configuration applies to."""
    query = select(StationRow.id).where(StationRow.online.is_(True))
    if scope.kind == STATION:
        query = query.where(StationRow.id == scope.value)
    elif scope.kind == SITE:
        query = query.where(StationRow.site_id == scope.value)
    else:
        vendor, _, model = scope.value.partition("/")
        query = query.where(StationRow.vendor == vendor, StationRow.model == model)
    return list((await session.scalars(query)).all())
