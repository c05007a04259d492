"""The usage timeline of a session: when it charged and how much energy it had taken so far.

The cost engine works on a list of `UsagePoint`s, each giving the time, the cumulative energy
in Wh and whether the car charged from that point until the next. Billing does not see every
meter value: it builds the timeline from the session's start, each SessionUpdated it stored
(a bounded-rate sample) and the close. The approximation, documented in the README:

- energy between two points grows linearly in time (constant power within a segment);
- a segment is charging when its energy or the session's charging seconds grew over it;
- when the close reports fewer charging seconds than the segments show, the surplus is taken
  from the end of the latest charging segments (cars charge first, then stay parked), with
  the segment's energy delivered before the split.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise

ZERO = Decimal(0)
MICROS = Decimal(1_000_000)


@dataclass(frozen=True)
class UsagePoint:
    at: datetime
    #: Cumulative energy since the session started, Wh.
    energy_wh: Decimal
    #: Whether the car charged from this point until the next one.
    charging: bool = True


@dataclass(frozen=True)
class Observation:
    """One stored session update: its time and the session's totals then."""

    at: datetime
    energy_wh: Decimal
    charging_s: int = 0
    power_w: Decimal = ZERO


def seconds(delta: timedelta) -> Decimal:
    """Exact seconds (microsecond resolution) as a Decimal."""
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros) / MICROS


def build_timeline(
    started_at: datetime,
    observations: list[Observation],
    end: Observation,
    reconcile: bool = False,
) -> list[UsagePoint]:
    """The timeline from start (0 Wh) through the observations to `end`.

    With `reconcile`, `end.charging_s` is the authoritative charging time of the whole session
    (a close) and a surplus of charging segments is turned into parking.
    """
    end = Observation(max(end.at, started_at), end.energy_wh, end.charging_s, end.power_w)
    energy_wh = end.energy_wh
    inside = sorted((o for o in observations if started_at < o.at < end.at), key=lambda o: o.at)
    raw = [Observation(started_at, ZERO), *inside, end]
    points: list[Observation] = []
    floor = ZERO
    for item in raw:
        # Never backwards, never beyond the close's total (the close is authoritative).
        value = min(max(item.energy_wh, floor), max(energy_wh, ZERO))
        floor = value
        fixed = Observation(item.at, value, item.charging_s)
        if points and points[-1].at == item.at:
            points[-1] = fixed
        else:
            points.append(fixed)
    timeline = [
        UsagePoint(a.at, a.energy_wh, b.energy_wh > a.energy_wh or b.charging_s > a.charging_s)
        for a, b in pairwise(points)
    ]
    timeline.append(UsagePoint(points[-1].at, points[-1].energy_wh, False))
    if reconcile:
        timeline = _park_the_surplus(timeline, Decimal(end.charging_s))
    return timeline


def charging_seconds(timeline: list[UsagePoint]) -> Decimal:
    return sum(
        (seconds(b.at - a.at) for a, b in pairwise(timeline) if a.charging),
        ZERO,
    )


def _park_the_surplus(timeline: list[UsagePoint], reported_s: Decimal) -> list[UsagePoint]:
    surplus = charging_seconds(timeline) - reported_s
    if surplus <= 0:
        return timeline
    points = list(timeline)
    for index in range(len(points) - 2, -1, -1):
        if surplus <= 0:
            break
        start, end = points[index], points[index + 1]
        if not start.charging:
            continue
        length = seconds(end.at - start.at)
        if length <= surplus:
            points[index] = UsagePoint(start.at, start.energy_wh, False)
            surplus -= length
            continue
        split = end.at - timedelta(microseconds=int(surplus * MICROS))
        points.insert(index + 1, UsagePoint(split, end.energy_wh, False))
        surplus = ZERO
    return points


def extrapolate(observations: list[Observation], now: datetime) -> Observation | None:
    """Where a running session probably is `now`: the last update, continued at its power."""
    if not observations:
        return None
    last = max(observations, key=lambda o: o.at)
    if now <= last.at or last.power_w <= 0:
        return Observation(max(now, last.at), last.energy_wh, last.charging_s, last.power_w)
    elapsed = seconds(now - last.at)
    energy = last.energy_wh + last.power_w * elapsed / Decimal(3600)
    return Observation(now, energy, last.charging_s + int(elapsed), last.power_w)
