"""Rows to API messages."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.firmware.models import ImageRow, LogFileRow, SecurityEventRow, StationUpdateRow
from chargegrid.platform.bus.envelope import set_timestamp


def stamp(target: Timestamp, when: datetime | None) -> None:
    if when is not None:
        set_timestamp(target, when)


def image_message(row: ImageRow) -> pb.FirmwareImage:
    image = pb.FirmwareImage(
        id=row.id,
        version=row.version,
        vendor=row.vendor,
        model=row.model,
        location=row.location,
        signing_certificate=row.signing_certificate,
        signature=row.signature,
    )
    stamp(image.created_at, row.created_at)
    return image


def update_message(row: StationUpdateRow) -> pb.StationUpdate:
    update = pb.StationUpdate(
        station_id=row.station_id,
        image_id=row.image_id,
        state=pb.UpdateState.Value(f"UPDATE_STATE_{row.state}"),
        detail=row.detail,
        attempts=row.attempts,
        request_id=row.request_id,
        campaign_id=row.campaign_id,
    )
    stamp(update.updated_at, row.updated_at)
    return update


def log_message(row: LogFileRow, base_url: str) -> pb.LogFile:
    log_file = pb.LogFile(
        id=row.id,
        station_id=row.station_id,
        kind=row.kind,
        request_id=row.request_id,
        status=row.status,
        file_name=row.file_name,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        download_url=f"{base_url}/logs/{row.id}" if row.uploaded_at is not None else "",
    )
    stamp(log_file.requested_at, row.requested_at)
    stamp(log_file.uploaded_at, row.uploaded_at)
    return log_file


def security_event_message(row: SecurityEventRow) -> pb.SecurityEvent:
    event = pb.SecurityEvent(
        station_id=row.station_id, type=row.type, tech_info=row.tech_info, critical=row.critical
    )
    stamp(event.occurred_at, row.occurred_at)
    return event
