"""Domain test data: facts and times, with overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargegrid.session.domain.model import Ended, Sample, Started, Updated

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
REGISTER = "Energy.Active.Import.Register"


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def register(minute: float, wh: float) -> Sample:
    return Sample(at(minute), REGISTER, wh, unit="Wh", location="Outlet")


def power(minute: float, watts: float) -> Sample:
    return Sample(at(minute), "Power.Active.Import", watts, unit="W", location="Outlet")


def a_start(**overrides: Any) -> Started:
    fields: dict[str, Any] = {
        "transaction_id": "42",
        "at": at(0),
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "TAG1",
        "id_token_type": "IdTag",
        "meter_start_wh": 1000.0,
    }
    fields.update(overrides)
    return Started(**fields)


def an_update(minute: float, *samples: Sample, **overrides: Any) -> Updated:
    fields: dict[str, Any] = {
        "transaction_id": "42",
        "at": at(minute),
        "charging_state": "Charging",
        "samples": samples,
    }
    fields.update(overrides)
    return Updated(**fields)


def an_end(minute: float, meter_stop: float | None = None, **overrides: Any) -> Ended:
    fields: dict[str, Any] = {
        "transaction_id": "42",
        "at": at(minute),
        "meter_stop_wh": meter_stop,
        "stop_reason": "Local",
    }
    fields.update(overrides)
    return Ended(**fields)
