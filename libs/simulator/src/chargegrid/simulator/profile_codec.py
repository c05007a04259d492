"""Charging profiles and composite schedules in and out of OCPP 1.6 and 2.x payloads.

Handlers receive snake_case dicts from the `ocpp` package (1.6 numbers may be Decimals);
this module turns them into the neutral `ChargingProfile` and back, and refuses with
ValueError what the simulator does not model (2.1 dynamic and V2X-only profiles).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chargegrid.simulator.clock import iso, parse_iso
from chargegrid.simulator.composite import CompositeSchedule
from chargegrid.simulator.profiles import ChargingProfile, Kind, Purpose, SchedulePeriod

PURPOSES_16 = {
    "ChargePointMaxProfile": Purpose.STATION_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}
PURPOSES_2X = {
    "ChargingStationMaxProfile": Purpose.STATION_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
    "ChargingStationExternalConstraints": Purpose.EXTERNAL,
}


def _moment(value: Any) -> datetime | None:
    return parse_iso(str(value)) if value else None


def _periods(raw: list[Mapping[str, Any]]) -> tuple[SchedulePeriod, ...]:
    periods = []
    for period in raw:
        if period.get("limit") is None:
            raise ValueError("periods without a limit (2.1 setpoints) are not simulated")
        phases = period.get("number_phases")
        periods.append(
            SchedulePeriod(
                start_s=int(period["start_period"]),
                limit=float(period["limit"]),
                phases=int(phases) if phases is not None else None,
            )
        )
    return tuple(sorted(periods, key=lambda p: p.start_s))


def _kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise ValueError(f"profile kind {value!r} is not simulated") from None


def _purpose(table: Mapping[str, Purpose], value: str) -> Purpose:
    if value not in table:
        raise ValueError(f"profile purpose {value!r} is not simulated")
    return table[value]


def profile_from_16(raw: Mapping[str, Any], connector_id: int, now: datetime) -> ChargingProfile:
    """A 1.6 csChargingProfiles (or RemoteStart chargingProfile) payload."""
    schedule = raw["charging_schedule"]
    duration = schedule.get("duration")
    transaction_id = raw.get("transaction_id")
    return ChargingProfile(
        profile_id=int(raw["charging_profile_id"]),
        connector_id=connector_id,
        stack_level=int(raw["stack_level"]),
        purpose=_purpose(PURPOSES_16, raw["charging_profile_purpose"]),
        kind=_kind(raw["charging_profile_kind"]),
        unit=str(schedule["charging_rate_unit"]),
        periods=_periods(schedule["charging_schedule_period"]),
        installed_at=now,
        start_schedule=_moment(schedule.get("start_schedule")),
        duration_s=int(duration) if duration is not None else None,
        recurrency=raw.get("recurrency_kind"),
        valid_from=_moment(raw.get("valid_from")),
        valid_to=_moment(raw.get("valid_to")),
        transaction_id=str(transaction_id) if transaction_id is not None else None,
    )


def profile_from_2x(raw: Mapping[str, Any], evse_id: int, now: datetime) -> ChargingProfile:
    """A 2.0.1 / 2.1 chargingProfile; only its first schedule is simulated."""
    schedule = raw["charging_schedule"][0]
    duration = schedule.get("duration")
    return ChargingProfile(
        profile_id=int(raw["id"]),
        connector_id=evse_id,
        stack_level=int(raw["stack_level"]),
        purpose=_purpose(PURPOSES_2X, raw["charging_profile_purpose"]),
        kind=_kind(raw["charging_profile_kind"]),
        unit=str(schedule["charging_rate_unit"]),
        periods=_periods(schedule["charging_schedule_period"]),
        installed_at=now,
        start_schedule=_moment(schedule.get("start_schedule")),
        duration_s=int(duration) if duration is not None else None,
        recurrency=raw.get("recurrency_kind"),
        valid_from=_moment(raw.get("valid_from")),
        valid_to=_moment(raw.get("valid_to")),
        transaction_id=raw.get("transaction_id"),
    )


def _period_payloads(schedule: CompositeSchedule) -> list[dict[str, Any]]:
    return [{"start_period": p.start_s, "limit": p.limit} for p in schedule.periods]


def composite_to_16(schedule: CompositeSchedule) -> dict[str, Any]:
    return {
        "duration": schedule.duration_s,
        "start_schedule": iso(schedule.start),
        "charging_rate_unit": schedule.unit,
        "charging_schedule_period": _period_payloads(schedule),
    }


def composite_to_2x(schedule: CompositeSchedule, evse_id: int) -> dict[str, Any]:
    return {
        "evse_id": evse_id,
        "duration": schedule.duration_s,
        "schedule_start": iso(schedule.start),
        "charging_rate_unit": schedule.unit,
        "charging_schedule_period": _period_payloads(schedule),
    }
