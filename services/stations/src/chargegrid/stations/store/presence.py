"""Where a station is and when it was last heard from: boots, connections, silence.

A reconnect to another pod publishes Connected(new pod) before Disconnected(old pod), and a
connection replaced on the same pod closes with code 4000, so a Disconnected counts only when
it comes from the pod that holds the station and is not a replacement. Offline marking by
silence is a single conditional UPDATE, so several replicas may sweep at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.stations.models import StationRow
from chargegrid.stations.store.stations import new_station

REPLACED_CLOSE_CODE = 4000


@dataclass(frozen=True)
class BootInfo:
    vendor: str
    model: str
    serial_number: str
    firmware_version: str
    reason: str
    ocpp_version: int
    at: datetime
    security_profile: int | None = None


async def ensure_station(
    session: AsyncSession, station_id: str, initial_status: str, now: datetime
) -> StationRow:
    """The station, created with `initial_status` if unknown (safe against a racing insert)."""
    station = await session.get(StationRow, station_id)
    if station is not None:
        return station
    row = new_station(station_id, initial_status, now)
    values = {c.key: getattr(row, c.key) for c in StationRow.__table__.columns}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(StationRow).values(**values).on_conflict_do_nothing())
    station = await session.get(StationRow, station_id)
    if station is None:  # pragma: no cover - the insert or a racing one just stored it
        raise RuntimeError(f"station {station_id} vanished while being registered")
    return station


def apply_boot(station: StationRow, boot: BootInfo) -> None:
    station.vendor = boot.vendor
    station.model = boot.model
    station.serial_number = boot.serial_number
    station.firmware_version = boot.firmware_version
    station.last_boot_reason = boot.reason
    station.last_boot_at = boot.at
    if boot.ocpp_version:
        station.ocpp_version = boot.ocpp_version
    if boot.security_profile is not None:
        station.security_profile = boot.security_profile


def mark_seen(station: StationRow, at: datetime) -> bool:
    """Record life; a station held by a pod but swept offline comes back. True if it did.

    Only life newer than the last recorded counts, so a re-delivered or late event (which
    carries no claimed id, see `coalesce`) never brings back a station swept offline since.
    """
    if station.last_seen is not None and at <= station.last_seen:
        return False
    station.last_seen = at
    if station.gateway_pod and not station.online:
        station.online = True
        return True
    return False


def mark_connected(
    station: StationRow, pod: str, ocpp_version: int, security_profile: int, at: datetime
) -> bool:
    """True when the station was offline before."""
    was_online = station.online
    station.online = True
    station.gateway_pod = pod
    if ocpp_version:
        station.ocpp_version = ocpp_version
    station.security_profile = security_profile
    station.last_seen = at if station.last_seen is None else max(station.last_seen, at)
    return not was_online


def mark_disconnected(station: StationRow, pod: str, close_code: int) -> bool:
    """True when the close really takes the station offline."""
    if close_code == REPLACED_CLOSE_CODE or station.gateway_pod != pod:
        return False
    was_online = station.online
    station.online = False
    station.gateway_pod = ""
    return was_online


async def sweep_silent(
    session: AsyncSession, now: datetime, default_interval_s: int, grace_factor: float
) -> list[str]:
    """Mark offline every online station silent for grace_factor heartbeat intervals."""
    intervals = await session.scalars(
        select(StationRow.heartbeat_interval_s).where(StationRow.online.is_(True)).distinct()
    )
    swept: list[str] = []
    for interval in intervals.all():
        seconds = (interval or default_interval_s) * grace_factor
        cutoff = now - timedelta(seconds=seconds)
        statement = (
            update(StationRow)
            .where(
                StationRow.online.is_(True),
                StationRow.heartbeat_interval_s == interval,
                or_(StationRow.last_seen.is_(None), StationRow.last_seen < cutoff),
            )
            .values(online=False)
            .returning(StationRow.id)
            .execution_options(synchronize_session=False)
        )
        swept += list((await session.scalars(statement)).all())
    return swept
