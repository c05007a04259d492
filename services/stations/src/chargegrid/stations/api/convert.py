"""Rows -> protos, and the operator-editable parts of protos -> column values."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.stations.models import ConnectorRow, ReportedVariableRow, SiteRow, StationRow

REGISTRATION: dict[str, int] = {
    "Pending": pb.REGISTRATION_STATUS_PENDING,
    "Accepted": pb.REGISTRATION_STATUS_ACCEPTED,
    "Rejected": pb.REGISTRATION_STATUS_REJECTED,
}
REGISTRATION_NAME: dict[int, str] = {number: name for name, number in REGISTRATION.items()}


def stamp(target: Timestamp, when: datetime | None) -> None:
    if when is not None:
        set_timestamp(target, when)


def site_to_proto(site: SiteRow, station_count: int) -> pb.Site:
    message = pb.Site(
        id=site.id,
        name=site.name,
        address=site.address,
        city=site.city,
        postal_code=site.postal_code,
        country=site.country,
        latitude=site.latitude,
        longitude=site.longitude,
        timezone=site.timezone,
        grid_limit_a=site.grid_limit_a,
        grid_phases=site.grid_phases,
        station_count=station_count,
    )
    stamp(message.created_at, site.created_at)
    return message


def connector_to_proto(row: ConnectorRow) -> pb.Connector:
    message = pb.Connector(
        connector_id=row.connector_id,
        type=row.type,
        max_power_w=row.max_power_w,
        max_current_a=row.max_current_a,
        status=row.status,  # type: ignore[arg-type]
        error_code=row.error_code,
        info=row.info,
    )
    stamp(message.status_at, row.status_at)
    return message


def station_to_proto(
    station: StationRow, connectors: list[ConnectorRow], default_heartbeat_s: int
) -> pb.Station:
    message = pb.Station(
        id=station.id,
        site_id=station.site_id or "",
        vendor=station.vendor,
        model=station.model,
        serial_number=station.serial_number,
        firmware_version=station.firmware_version,
        ocpp_version=station.ocpp_version,  # type: ignore[arg-type]
        security_profile=station.security_profile,
        required_security_profile=station.required_security_profile,
        registration_status=REGISTRATION[station.registration_status],  # type: ignore[arg-type]
        has_password=bool(station.password_hash),
        certificate_fingerprint=station.certificate_fingerprint,
        online=station.online,
        last_boot_reason=station.last_boot_reason,
        heartbeat_interval_s=station.heartbeat_interval_s or default_heartbeat_s,
        gateway_pod=station.gateway_pod,
    )
    stamp(message.last_seen, station.last_seen)
    stamp(message.last_boot_at, station.last_boot_at)
    stamp(message.created_at, station.created_at)
    evses: dict[int, pb.Evse] = {}
    for row in connectors:
        evse = evses.get(row.evse_id)
        if evse is None:
            evse = evses[row.evse_id] = message.evses.add(evse_id=row.evse_id)
        evse.connectors.append(connector_to_proto(row))
    return message


def connector_update(station: StationRow, row: ConnectorRow) -> pb.StatusUpdate:
    update = pb.StatusUpdate(
        station_id=station.id,
        site_id=station.site_id or "",
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        status=row.status,  # type: ignore[arg-type]
        error_code=row.error_code,
        online=station.online,
        kind="status",
    )
    stamp(update.occurred_at, row.status_at)
    return update


def presence_update(station: StationRow, when: datetime | None) -> pb.StatusUpdate:
    update = pb.StatusUpdate(
        station_id=station.id,
        site_id=station.site_id or "",
        online=station.online,
        kind="online" if station.online else "offline",
    )
    stamp(update.occurred_at, when)
    return update


def reported_to_proto(row: ReportedVariableRow) -> pb.ReportedVariable:
    message = pb.ReportedVariable(key=row.key, value=row.value, readonly=row.readonly)
    stamp(message.reported_at, row.reported_at)
    return message
