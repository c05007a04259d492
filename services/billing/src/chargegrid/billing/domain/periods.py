"""Cut a session's timeline into periods within which no element can become (in)active.

Boundaries are every timeline point, each local midnight (dates and days of week), every
element's start/end time of day on each local date the session touches (so time zones and
DST transitions are handled by converting local wall times to instants), the duration
thresholds and the instants the cumulative energy crosses a kWh threshold (linear within a
segment). Extra boundaries are harmless: adjacent lines with the same price are merged.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from chargegrid.billing.domain.tariffs import Tariff
from chargegrid.billing.domain.timeline import MICROS, UsagePoint, seconds

ZERO = Decimal(0)
WH_PER_KWH = Decimal(1000)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    #: Cumulative energy at the midpoint, Wh (what kWh restrictions look at).
    energy_at_mid_wh: Decimal
    #: Energy taken within the period, Wh.
    energy_wh: Decimal
    charging: bool
    seconds: Decimal
    midpoint: datetime
    power_kw: Decimal


def energy_at(timeline: list[UsagePoint], times: list[datetime], at: datetime) -> Decimal:
    """Cumulative Wh at `at`, interpolated linearly between points."""
    index = bisect.bisect_right(times, at) - 1
    if index < 0:
        return timeline[0].energy_wh
    if index >= len(timeline) - 1:
        return timeline[-1].energy_wh
    a, b = timeline[index], timeline[index + 1]
    span = seconds(b.at - a.at)
    if span <= 0:
        return b.energy_wh
    return a.energy_wh + (b.energy_wh - a.energy_wh) * seconds(at - a.at) / span


def _local_instants(tariff: Tariff, start: datetime, end: datetime, tz: ZoneInfo) -> set[datetime]:
    wall_times = {time(0, 0)}
    for element in tariff.elements:
        r = element.restrictions
        wall_times.update(t for t in (r.start_time, r.end_time) if t is not None)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    found: set[datetime] = set()
    day = first
    while day <= last:
        for wall in wall_times:
            found.add(datetime.combine(day, wall, tzinfo=tz).astimezone(UTC))
        day += timedelta(days=1)
    return found


def _energy_crossings(
    timeline: list[UsagePoint], thresholds_wh: set[Decimal]
) -> dict[datetime, Decimal]:
    """Instants the cumulative energy reaches each threshold, with that exact energy (the
    instant is rounded to a microsecond, the energy is not)."""
    found: dict[datetime, Decimal] = {}
    for a, b in pairwise(timeline):
        for wh in thresholds_wh:
            if a.energy_wh < wh < b.energy_wh:
                fraction = (wh - a.energy_wh) / (b.energy_wh - a.energy_wh)
                micros = int(seconds(b.at - a.at) * fraction * MICROS)
                found[a.at + timedelta(microseconds=micros)] = wh
    return found


def boundaries(
    tariff: Tariff, timeline: list[UsagePoint], tz: ZoneInfo
) -> tuple[list[datetime], dict[datetime, Decimal]]:
    start, end = timeline[0].at, timeline[-1].at
    found = {point.at for point in timeline} | _local_instants(tariff, start, end, tz)
    thresholds_wh: set[Decimal] = set()
    for element in tariff.elements:
        r = element.restrictions
        for limit_s in (r.min_duration_s, r.max_duration_s):
            if limit_s is not None:
                found.add(start + timedelta(seconds=limit_s))
        thresholds_wh.update(k * WH_PER_KWH for k in (r.min_kwh, r.max_kwh) if k is not None)
    crossings = _energy_crossings(timeline, thresholds_wh)
    found.update(crossings)
    return sorted(t for t in found if start <= t <= end), crossings


def split(tariff: Tariff, timeline: list[UsagePoint], tz: ZoneInfo) -> list[Period]:
    """The periods of the session, in order; empty for a session of no duration."""
    times = [point.at for point in timeline]
    cuts, exact = boundaries(tariff, timeline, tz)
    periods = []
    for a, b in pairwise(cuts):
        if b <= a:
            continue
        index = max(bisect.bisect_right(times, a) - 1, 0)
        energy_a = exact.get(a) or energy_at(timeline, times, a)
        energy_b = exact.get(b) or energy_at(timeline, times, b)
        middle = a + (b - a) / 2
        length = seconds(b - a)
        taken = energy_b - energy_a
        periods.append(
            Period(
                start=a,
                end=b,
                energy_at_mid_wh=(energy_a + energy_b) / 2,
                energy_wh=taken,
                charging=timeline[index].charging,
                seconds=length,
                midpoint=middle,
                power_kw=taken * Decimal("3.6") / length,
            )
        )
    return periods
