"""Checks of operator input, each raising InvalidArgument with what is wrong, before
anything is stored."""

from __future__ import annotations

import math

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.energy.allocation import PHASES, PolicyName
from chargegrid.energy.site_model import ROOT
from chargegrid.platform.grpc import InvalidArgument

MAX_ID_LENGTH = 64
MAX_EVSE_CURRENT_A = 1000.0
MAX_KW = 10_000.0


def identifier(value: str, field: str, *, required: bool = True) -> str:
    value = value.strip()
    if not value:
        if required:
            raise InvalidArgument(f"{field} is required")
        return value
    if len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise InvalidArgument(f"{field} must be 1 to {MAX_ID_LENGTH} printable characters")
    return value


def circuit_id(value: str) -> str:
    value = identifier(value, "circuit_id", required=False)
    if value == ROOT:
        raise InvalidArgument(f"circuit_id {ROOT!r} is reserved for the grid connection")
    return value


def current(value: float, field: str, upper: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise InvalidArgument(f"{field} must be a finite, non-negative current, got {value!r}")
    if value > upper:
        raise InvalidArgument(f"{field} of {value:g} A is above {upper:g} A; refusing it")
    return float(value)


def limits(values: pb.PhaseCurrents, field: str, upper: float) -> tuple[float, float, float]:
    found = (
        current(values.l1, f"{field}.l1", upper),
        current(values.l2, f"{field}.l2", upper),
        current(values.l3, f"{field}.l3", upper),
    )
    if not any(found):
        raise InvalidArgument(f"{field} needs a limit on at least one phase")
    return found


def power_kw(value: float, field: str) -> float:
    if not math.isfinite(value) or value < 0 or value > MAX_KW:
        raise InvalidArgument(f"{field} must be 0..{MAX_KW:g} kW, got {value!r}")
    return float(value)


def voltage(value: float) -> float:
    if value == 0:
        return 230.0
    if not math.isfinite(value) or not 100 <= value <= 1000:
        raise InvalidArgument(f"nominal_voltage_v must be 100..1000 V, got {value!r}")
    return float(value)


def policy(value: str) -> str:
    try:
        return PolicyName(value.strip().lower()).value
    except ValueError:
        names = ", ".join(p.value for p in PolicyName)
        raise InvalidArgument(f"policy must be one of {names}, got {value!r}") from None


def station_settings(settings: pb.StationSettings) -> tuple[str, ...]:
    """Checks the currents and wiring; returns the rotation (defaulted from the phases)."""
    max_a = current(settings.max_current_a, "max_current_a", MAX_EVSE_CURRENT_A)
    if max_a <= 0:
        raise InvalidArgument("max_current_a must be positive")
    min_a = current(settings.min_current_a, "min_current_a", MAX_EVSE_CURRENT_A)
    if min_a > max_a:
        raise InvalidArgument(f"min_current_a {min_a:g} A is above max_current_a {max_a:g} A")
    current(settings.offline_fallback_a, "offline_fallback_a", max_a)
    if settings.phases not in (1, 3):
        raise InvalidArgument(f"phases must be 1 or 3, got {settings.phases}")
    rotation = tuple(p.strip().upper() for p in settings.rotation) or tuple(
        p.value for p in PHASES[: settings.phases]
    )
    names = {p.value for p in PHASES}
    if len(rotation) != settings.phases or len(set(rotation)) != len(rotation):
        raise InvalidArgument(
            f"rotation must name {settings.phases} different grid phase(s), got {list(rotation)}"
        )
    if not set(rotation) <= names:
        raise InvalidArgument(f"rotation may only name L1, L2, L3, got {list(rotation)}")
    return rotation
