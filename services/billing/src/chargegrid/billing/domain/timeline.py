"""The usage timeline of a session: when it charged and how much energy it had taken so far.

The cost engine works on a list of `UsagePoint`s, each giving the time, the cumulative energy
in Wh and whether the car charged from that point until the next. Billing does not see every
meter value: it builds the timeline from the session's start, each SessionUpdated it stored
(a bounded-rate sample) and the close. The approximation, documented in the README:

- energy between two points grows linearly in time (constant power within a segment);
- a segment is charging when its energy or the session's charging seconds grew over it;
- when the close reports fewer charging seconds than the segments show, the surplus is taken
  from the end of the latest charging segments (cars charge first, then stay parked), with
  the segment's energy delivered before the split; when it reports more, the shortfall is
  taken from the start of the earliest parking segments.

A closed session's CDR times and its priced timeline come from one computation
(`closed_timeline`): the timeline runs whole seconds from the start and its charging
segments add up to exactly the CDR's charging time, so parking billed per started minute and
the CDR's parking_time_s can never disagree.
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
        timeline = _charge_the_shortfall(timeline, Decimal(end.charging_s))
    return timeline


@dataclass(frozen=True)
class SessionTimes:
    """A closed session's whole seconds, as its CDR states them."""

    total_s: int
    charging_s: int

    @property
    def parking_s(self) -> int:
        return self.total_s - self.charging_s


def closed_timeline(
    started_at: datetime,
    observations: list[Observation],
    ended_at: datetime,
    energy_wh: Decimal,
    reported_charging_s: int | None,
) -> tuple[list[UsagePoint], SessionTimes]:
    """The timeline to price a closed session by and the CDR's times, which it matches exactly.

    The timeline ends a whole number of seconds after the start (the fraction of the last
    second is dropped, as the CDR's total time drops it). The charging time is the session's
    reported one, capped at the total; without one (0 means "not measured"), what the
    energy readings show, rounded down to a second.
    """
    total_s = int(seconds(max(ended_at, started_at) - started_at))
    end_at = started_at + timedelta(seconds=total_s)
    if reported_charging_s is not None:
        charging_s = min(max(reported_charging_s, 0), total_s)
    else:
        measured = build_timeline(started_at, observations, Observation(end_at, energy_wh))
        charging_s = int(charging_seconds(measured))
    end = Observation(end_at, energy_wh, charging_s)
    timeline = build_timeline(started_at, observations, end, reconcile=True)
    return timeline, SessionTimes(total_s, charging_s)


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


def _charge_the_shortfall(timeline: list[UsagePoint], reported_s: Decimal) -> list[UsagePoint]:
    """Parking turned into charging from the earliest parking segments on, until the
    segments' charging time is `reported_s` (cars charge first, then stay parked)."""
    shortfall = reported_s - charging_seconds(timeline)
    points = list(timeline)
    index = 0
    while shortfall > 0 and index < len(points) - 1:
        start, end = points[index], points[index + 1]
        length = seconds(end.at - start.at)
        if start.charging or length <= 0:
            index += 1
            continue
        points[index] = UsagePoint(start.at, start.energy_wh, True)
        if length > shortfall:
            split = start.at + timedelta(microseconds=int(shortfall * MICROS))
            points.insert(index + 1, UsagePoint(split, start.energy_wh, False))
            shortfall = ZERO
        else:
            shortfall -= length
        index += 1
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
