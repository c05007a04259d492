"""Helpers shared by the per-version translators: timestamps, replies, enums."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.gateway.v1 import station_control_pb2 as pb


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def time_of(message: Message, field: str) -> str | None:
    """The RFC 3339 text of a Timestamp field, or None when it is unset."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return rfc3339(stamp.ToDatetime(tzinfo=UTC))


def set_time(target: Timestamp, text: str | None) -> None:
    if text:
        target.FromDatetime(datetime.fromisoformat(text))


def compact(values: dict[str, Any]) -> dict[str, Any]:
    """Drop unset optional fields (None, empty strings, empty lists)."""
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def command_reply(payload: dict[str, Any]) -> pb.CommandReply:
    info = payload.get("statusInfo") or {}
    return pb.CommandReply(
        status=str(payload.get("status", "")),
        status_reason=str(info.get("reasonCode", "")),
        payload_json=orjson.dumps(payload).decode(),
    )


PURPOSES_16 = {
    pb.CHARGING_PROFILE_PURPOSE_STATION_MAX: "ChargePointMaxProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT: "TxDefaultProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX: "TxProfile",
}
PURPOSES_2X = {
    pb.CHARGING_PROFILE_PURPOSE_STATION_MAX: "ChargingStationMaxProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT: "TxDefaultProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX: "TxProfile",
}


def schedule_periods(schedule: pb.ChargingSchedule) -> list[dict[str, Any]]:
    return [
        compact(
            {
                "startPeriod": p.start_period_s,
                "limit": p.limit,
                "numberPhases": p.number_phases or None,
            }
        )
        for p in schedule.periods
    ]


def schedule_from(payload: dict[str, Any] | None) -> pb.ChargingSchedule:
    """A typed schedule from a 1.6 chargingSchedule or 2.x (composite) schedule object."""
    schedule = pb.ChargingSchedule()
    if not payload:
        return schedule
    schedule.duration_s = int(payload.get("duration", 0))
    schedule.rate_unit = str(payload.get("chargingRateUnit", ""))
    start = payload.get("startSchedule") or payload.get("scheduleStart")
    set_time(schedule.start_schedule, start)
    for period in payload.get("chargingSchedulePeriod", []):
        schedule.periods.add(
            start_period_s=int(period.get("startPeriod", 0)),
            limit=float(period.get("limit", 0)),
            number_phases=int(period.get("numberPhases", 0)),
        )
    return schedule
