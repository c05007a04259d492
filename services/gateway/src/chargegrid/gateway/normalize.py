"""Version-neutral forms of what stations send: meter samples, statuses, timestamps.

1.6 sends sampled values as strings with a unit; 2.x as numbers with a unit of measure and a
power-of-ten multiplier. Both become `MeterSample`s in base units (Wh, W, varh, var, VA),
so nothing behind the gateway scales kWh again.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.platform.bus.envelope import set_timestamp

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


def _sample(
    sampled: dict[str, Any], raw: float, unit: str, when: datetime
) -> tx_events.MeterSample:
    """One sampledValue of either version, in base units."""
    value, base_unit = _scaled(raw, unit)
    sample = tx_events.MeterSample(
        measurand=sampled.get("measurand", DEFAULT_MEASURAND),
        phase=sampled.get("phase", ""),
        unit=base_unit,
        value=value,
        context=sampled.get("context", "Sample.Periodic"),
        location=sampled.get("location", "Outlet"),
    )
    set_timestamp(sample.timestamp, when)
    return sample


def samples_from_16(
    meter_values: list[dict[str, Any]], default: datetime
) -> list[tx_events.MeterSample]:
    """1.6 meterValue[] -> samples; values that are not numbers (SignedData) are skipped."""
    samples = []
    for meter_value in meter_values:
        when = parse_time(meter_value.get("timestamp"), default)
        for sampled in meter_value.get("sampledValue", ()):
            try:
                raw = float(sampled["value"])
            except (KeyError, TypeError, ValueError):
                continue
            if not math.isfinite(raw):
                continue
            samples.append(_sample(sampled, raw, sampled.get("unit", "Wh"), when))
    return samples


def samples_from_2x(
    meter_values: list[dict[str, Any]], default: datetime
) -> list[tx_events.MeterSample]:
    """2.x meterValue[] -> samples, applying unitOfMeasure.multiplier (10^n)."""
    samples = []
    for meter_value in meter_values:
        when = parse_time(meter_value.get("timestamp"), default)
        for sampled in meter_value.get("sampledValue", ()):
            raw = sampled.get("value")
            if not isinstance(raw, int | float) or not math.isfinite(raw):
                continue
            uom = sampled.get("unitOfMeasure") or {}
            scaled = float(raw) * (10.0 ** int(uom.get("multiplier", 0)))
            samples.append(_sample(sampled, scaled, uom.get("unit", "Wh"), when))
    return samples


def energy_register_wh(samples: list[tx_events.MeterSample]) -> float | None:
    """The last total active-import register reading among `samples`, if any."""
    readings = [
        s.value for s in samples if s.measurand == DEFAULT_MEASURAND and s.phase in ("", "N")
    ]
    return readings[-1] if readings else None
