"""Meter arithmetic: energy from register readings, power totals, charging time.

Energy is the sum of the positive steps between consecutive readings of the total
active-import register in time order: a register that resets (a meter swap, a firmware
bug) or reads lower than before contributes nothing, so energy is never negative. Readings
that arrive in time order extend a running total (`advance`); one older than the newest
known reading makes the caller sum the whole series again (`recount`), which gives the same
answer as if everything had arrived in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from chargegrid.session.domain.model import Sample

REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
SOC = "SoC"
TOTAL_PHASES = frozenset({"", "N"})
#: The charger's own meter; EV- or grid-side readings measure something else.
METER_LOCATIONS = frozenset({"", "Outlet"})


@dataclass(frozen=True, slots=True)
class Reading:
    """One total register reading; `rank` orders readings of the same instant
    (meter start 0, samples 1, meter stop 2)."""

    at: datetime
    wh: float
    rank: int = 1


def is_register(sample: Sample) -> bool:
    return (
        sample.measurand == REGISTER
        and sample.phase in TOTAL_PHASES
        and sample.location in METER_LOCATIONS
    )


def register_readings(samples: Iterable[Sample]) -> list[Reading]:
    return [Reading(s.at, s.value) for s in samples if is_register(s)]


def _ordered(readings: Iterable[Reading]) -> list[Reading]:
    return sorted(readings, key=lambda r: (r.at, r.rank))


def positive_energy(readings: Iterable[Reading]) -> float:
    """Wh between the readings in time order, counting only increments."""
    total = 0.0
    previous: float | None = None
    for reading in _ordered(readings):
        if previous is not None and reading.wh > previous:
            total += reading.wh - previous
        previous = reading.wh
    return total


@dataclass(frozen=True, slots=True)
class RegisterTrack:
    energy_wh: float = 0.0
    last_at: datetime | None = None
    last_wh: float | None = None


def advance(
    track: RegisterTrack, readings: Sequence[Reading], last_rank: int = 1
) -> RegisterTrack | None:
    """Extend `track` with readings newer than its last one (of rank `last_rank`); None if
    one comes before it (the newest reading repeated is no news and changes nothing).

    A reading of the same instant and no lower rank comes after the last one in a recount
    too (ties keep arrival order), so a station sending two readings within one second is
    extended here, not recounted from the stored series (a query per MeterValues)."""
    energy, last_at, last_wh = track.energy_wh, track.last_at, track.last_wh
    for reading in _ordered(readings):
        if reading.at == last_at and reading.wh == last_wh:
            continue  # the newest reading again (a resent message): a recount would agree
        if last_at is not None and (
            reading.at < last_at or (reading.at == last_at and reading.rank < last_rank)
        ):
            return None
        if last_wh is not None and reading.wh > last_wh:
            energy += reading.wh - last_wh
        last_at, last_wh, last_rank = reading.at, reading.wh, reading.rank
    return RegisterTrack(energy, last_at, last_wh)


def recount(readings: Iterable[Reading]) -> RegisterTrack:
    """The track of a whole series, as if every reading had arrived in order."""
    ordered = _ordered(readings)
    if not ordered:
        return RegisterTrack()
    return RegisterTrack(positive_energy(ordered), ordered[-1].at, ordered[-1].wh)


def power_totals(samples: Iterable[Sample]) -> list[tuple[datetime, float]]:
    """Total active-import power per instant: the total if sent, else the sum of phases."""
    by_time: dict[datetime, dict[str, float]] = {}
    for sample in samples:
        if sample.measurand == POWER and sample.location in METER_LOCATIONS:
            by_time.setdefault(sample.at, {})[sample.phase] = sample.value
    totals = []
    for at, phases in sorted(by_time.items()):
        if "" in phases:
            totals.append((at, phases[""]))
        else:
            totals.append((at, sum(v for p, v in phases.items() if p.startswith("L"))))
    return totals


def latest(samples: Iterable[Sample], measurand: str) -> Sample | None:
    """The newest sample of `measurand` (total phase), if any."""
    found = [s for s in samples if s.measurand == measurand and s.phase in TOTAL_PHASES]
    return max(found, key=lambda s: s.at) if found else None


@dataclass(frozen=True, slots=True)
class ChargingTrack:
    seconds: float = 0.0
    last_at: datetime | None = None
    charging: bool = False


def observe(track: ChargingTrack, observations: Iterable[tuple[datetime, bool]]) -> ChargingTrack:
    """Add the time between consecutive observations that began while charging.

    Observations older than the newest one are ignored: charging time is accounting for
    live views, and re-sorting it would need every past observation stored.
    """
    seconds, last_at, charging = track.seconds, track.last_at, track.charging
    for at, now_charging in sorted(observations, key=lambda o: o[0]):
        if last_at is None or at > last_at:
            if last_at is not None and charging:
                seconds += (at - last_at).total_seconds()
            last_at, charging = at, now_charging
        elif at == last_at:
            charging = charging or now_charging
    return ChargingTrack(seconds, last_at, charging)
