"""Version-neutral forms of what stations send: meter samples, statuses, timestamps.

1.6 sends sampled values as strings with a unit; 2.x as numbers with a unit of measure and a
power-of-ten multiplier. Both become `MeterSample`s in base units (Wh, W, varh, var, VA),
so nothing behind the gateway scales kWh again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.transaction.v1 import events_pb2 as tx_events

DEFAULT_MEASURAND = "Energy.Active.Import.Register"
KILO_UNITS = {"kWh": "Wh", "kW": "W", "kvarh": "varh", "kvar": "var", "kVA": "VA"}

_STATUS = {
    "Available": station_events.CONNECTOR_STATUS_AVAILABLE,
    "Preparing": station_events.CONNECTOR_STATUS_PREPARING,
    "Charging": station_events.CONNECTOR_STATUS_CHARGING,
    "SuspendedEV": station_events.CONNECTOR_STATUS_SUSPENDED_EV,
    "SuspendedEVSE": station_events.CONNECTOR_STATUS_SUSPENDED_EVSE,
    "Finishing": station_events.CONNECTOR_STATUS_FINISHING,
    "Reserved": station_events.CONNECTOR_STATUS_RESERVED,
    "Unavailable": station_events.CONNECTOR_STATUS_UNAVAILABLE,
    "Faulted": station_events.CONNECTOR_STATUS_FAULTED,
    "Occupied": station_events.CONNECTOR_STATUS_OCCUPIED,
}


def connector_status(name: str) -> station_events.ConnectorStatus.ValueType:
    return _STATUS.get(name, station_events.CONNECTOR_STATUS_UNSPECIFIED)


def parse_time(value: str | None, default: datetime) -> datetime:
    """An OCPP timestamp (RFC 3339), or `default` when absent or unreadable."""
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _scaled(value: float, unit: str) -> tuple[float, str]:
    if unit in KILO_UNITS:
        return value * 1000.0, KILO_UNITS[unit]
    return value, unit


Samples = RepeatedCompositeFieldContainer[tx_events.MeterSample]


def _seconds_nanos(when: datetime) -> tuple[int, int]:
    """What `set_timestamp` stores, computed once for every sample of one meterValue."""
    return int(when.timestamp() // 1), when.microsecond * 1000


def _add_sample(
    target: Samples,
    sampled: dict[str, Any],
    raw: float,
    unit: str,
    stamp: tuple[int, int],
) -> None:
    """One sampledValue of either version, in base units, appended in place (building it in
    the event's repeated field saves a copy per sample on the hot path)."""
    value, base_unit = _scaled(raw, unit)
    sample = target.add(
        measurand=sampled.get("measurand", DEFAULT_MEASURAND),
        phase=sampled.get("phase", ""),
        unit=base_unit,
        value=value,
        context=sampled.get("context", "Sample.Periodic"),
        location=sampled.get("location", "Outlet"),
    )
    timestamp = sample.timestamp
    timestamp.seconds, timestamp.nanos = stamp


def add_samples_16(target: Samples, meter_values: list[dict[str, Any]], default: datetime) -> None:
    """1.6 meterValue[] -> samples appended to `target`; values that are not numbers
    (SignedData) are skipped."""
    for meter_value in meter_values:
        stamp = _seconds_nanos(parse_time(meter_value.get("timestamp"), default))
        for sampled in meter_value.get("sampledValue", ()):
            try:
                raw = float(sampled["value"])
            except (KeyError, TypeError, ValueError):
                continue
            if not math.isfinite(raw):
                continue
            _add_sample(target, sampled, raw, sampled.get("unit", "Wh"), stamp)


def add_samples_2x(target: Samples, meter_values: list[dict[str, Any]], default: datetime) -> None:
    """2.x meterValue[] -> samples appended to `target`, applying unitOfMeasure.multiplier
    (10^n)."""
    for meter_value in meter_values:
        stamp = _seconds_nanos(parse_time(meter_value.get("timestamp"), default))
        for sampled in meter_value.get("sampledValue", ()):
            raw = sampled.get("value")
            if not isinstance(raw, int | float) or not math.isfinite(raw):
                continue
            uom = sampled.get("unitOfMeasure") or {}
            scaled = float(raw) * (10.0 ** int(uom.get("multiplier", 0)))
            _add_sample(target, sampled, scaled, uom.get("unit", "Wh"), stamp)


def energy_register_wh(samples: Iterable[tx_events.MeterSample]) -> float | None:
    """The last total active-import register reading among `samples`, if any."""
    readings = [
        s.value for s in samples if s.measurand == DEFAULT_MEASURAND and s.phase in ("", "N")
    ]
    return readings[-1] if readings else None
