"""Stations and their connectors: registration, listing with filters, operator edits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.platform.grpc.errors import AlreadyExists, NotFound
from chargegrid.stations.models import ConnectorRow, StationRow
from chargegrid.stations.store.paging import Page


@dataclass(frozen=True)
class StationFilter:
    """Empty or None fields do not filter."""

    site_id: str = ""
    registration_status: str = ""
    online: bool | None = None
    vendor: str = ""
    model: str = ""
    firmware_version: str = ""
    connector_status: int = 0


@dataclass(frozen=True)
class ConnectorSpec:
    """What an operator says about a connector: its type and ratings (not its live status)."""

    evse_id: int
    connector_id: int
    type: str
    max_power_w: float
    max_current_a: float


async def find_station(session: AsyncSession, station_id: str) -> StationRow | None:
    return await session.get(StationRow, station_id)


async def get_station(session: AsyncSession, station_id: str) -> StationRow:
    station = await session.get(StationRow, station_id)
    if station is None:
        raise NotFound(f"station {station_id!r} does not exist")
    return station


def new_station(station_id: str, registration_status: str, now: datetime) -> StationRow:
    """A row with every column set, so it is usable before the database fills defaults."""
    return StationRow(
        id=station_id,
        site_id=None,
        vendor="",
        model="",
        serial_number="",
        firmware_version="",
        ocpp_version=0,
        security_profile=0,
        required_security_profile=0,
        pending_security_profile=0,
        registration_status=registration_status,
        password_hash=None,
        certificate_fingerprint="",
        online=False,
        last_seen=None,
        last_boot_reason="",
        last_boot_at=None,
        heartbeat_interval_s=0,
        gateway_pod="",
        created_at=now,
    )


async def add_station(session: AsyncSession, station: StationRow) -> StationRow:
    """Insert the station, or AlreadyExists: one INSERT ... ON CONFLICT DO NOTHING, so a
    racing create (or a boot of the same id registering it meanwhile) is a clear refusal
    rather than a unique-key violation."""
    values = {c.key: getattr(station, c.key) for c in StationRow.__table__.columns}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(StationRow).values(**values).on_conflict_do_nothing()
    inserted = await session.scalar(statement.returning(StationRow.id))
    if inserted is None:
        raise AlreadyExists(f"station {station.id!r} already exists")
    stored = await session.get(StationRow, station.id, populate_existing=True)
    assert stored is not None  # just inserted in this transaction
    return stored


async def delete_station(session: AsyncSession, station_id: str) -> None:
    station = await get_station(session, station_id)
    await session.execute(delete(ConnectorRow).where(ConnectorRow.station_id == station_id))
    await session.delete(station)
    await session.flush()


async def replace_connector_specs(
    session: AsyncSession, station_id: str, specs: list[ConnectorSpec]
) -> None:
    """Set types and ratings; connectors not named keep theirs, live status is untouched."""
    for spec in specs:
        row = await session.get(ConnectorRow, (station_id, spec.evse_id, spec.connector_id))
        if row is None:
            row = new_connector(station_id, spec.evse_id, spec.connector_id)
            session.add(row)
        row.type = spec.type
        row.max_power_w = spec.max_power_w
        row.max_current_a = spec.max_current_a
    await session.flush()


def new_connector(station_id: str, evse_id: int, connector_id: int) -> ConnectorRow:
    return ConnectorRow(
        station_id=station_id,
        evse_id=evse_id,
        connector_id=connector_id,
        type="",
        max_power_w=0.0,
        max_current_a=0.0,
        status=0,
        error_code="",
        info="",
        status_at=None,
    )


async def connectors_of(
    session: AsyncSession, station_ids: list[str]
) -> dict[str, list[ConnectorRow]]:
    found: dict[str, list[ConnectorRow]] = defaultdict(list)
    if not station_ids:
        return found
    query = (
        select(ConnectorRow)
        .where(ConnectorRow.station_id.in_(station_ids))
        .order_by(ConnectorRow.station_id, ConnectorRow.evse_id, ConnectorRow.connector_id)
    )
    for row in (await session.scalars(query)).all():
        found[row.station_id].append(row)
    return found


def _filtered(query: Select[StationRow], f: StationFilter) -> Select[StationRow]:
    if f.site_id:
        query = query.where(StationRow.site_id == f.site_id)
    if f.registration_status:
        query = query.where(StationRow.registration_status == f.registration_status)
    if f.online is not None:
        query = query.where(StationRow.online.is_(f.online))
    for column, value in (
        (StationRow.vendor, f.vendor),
        (StationRow.model, f.model),
        (StationRow.firmware_version, f.firmware_version),
    ):
        if value:
            query = query.where(column == value)
    if f.connector_status:
        query = query.where(
            exists().where(
                ConnectorRow.station_id == StationRow.id, ConnectorRow.status == f.connector_status
            )
        )
    return query


async def list_stations(
    session: AsyncSession, f: StationFilter, page: Page
) -> tuple[list[StationRow], int]:
    """Up to page.size + 1 matching stations in id order, and how many match in all."""
    base = _filtered(select(StationRow), f)
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    query = base.order_by(StationRow.id).limit(page.size + 1)
    if page.after is not None:
        query = query.where(StationRow.id > page.after)
    return list((await session.scalars(query)).all()), int(total or 0)


async def stations_matching(
    session: AsyncSession, *, site_id: str = "", station_id: str = ""
) -> list[StationRow]:
    query = select(StationRow).order_by(StationRow.id)
    if site_id:
        query = query.where(StationRow.site_id == site_id)
    if station_id:
        query = query.where(StationRow.id == station_id)
    return list((await session.scalars(query)).all())
