"""The composite schedule: what a connector will be allowed to draw over the coming window.

GetCompositeSchedule lets a CSMS check that the profiles it sent combine as it intended; we
answer by evaluating the same rules the EV obeys at every instant where any profile changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargegrid.simulator.meter import watts_to_amps
from chargegrid.simulator.profiles import (
    RECURRENCE_SECONDS,
    ChargingProfile,
    Kind,
    ProfileStore,
    SchedulePeriod,
)

_MAX_BREAKPOINTS = 1_000


@dataclass(frozen=True)
class CompositeSchedule:
    """Limits from `start` for `duration_s` seconds, in `unit` ("W" or "A")."""

    start: datetime
    duration_s: int
    unit: str
    periods: tuple[SchedulePeriod, ...]


@dataclass(frozen=True)
class Window:
    """What the composite is asked for, and the electrical facts needed to convert units."""

    connector_id: int
    start: datetime
    duration_s: int
    unit: str
    voltage_v: float
    phases: int
    connector_max_w: float
    tx_start: datetime | None = None
    transaction_id: str | None = None


def composite_schedule(store: ProfileStore, window: Window) -> CompositeSchedule:
    """Merge every applicable profile into one list of periods (equal neighbours joined)."""
    periods: list[SchedulePeriod] = []
    for offset in _breakpoints(store, window):
        limit_w = _limit_w(store, window, window.start + timedelta(seconds=offset))
        limit = limit_w if window.unit == "W" else _to_amps(limit_w, window)
        limit = round(limit, 1)
        if not periods or periods[-1].limit != limit:
            periods.append(SchedulePeriod(start_s=offset, limit=limit))
    return CompositeSchedule(window.start, window.duration_s, window.unit, tuple(periods))


def _to_amps(watts: float, window: Window) -> float:
    return watts_to_amps(watts, window.voltage_v, window.phases)


def _limit_w(store: ProfileStore, window: Window, moment: datetime) -> float:
    caps = [window.connector_max_w]
    station = store.station_limit_w(moment, window.voltage_v, window.phases)
    if station is not None:
        caps.append(station)
    if window.connector_id != 0:
        connector = store.connector_limit_w(
            window.connector_id,
            moment,
            tx_start=window.tx_start,
            transaction_id=window.transaction_id,
            voltage_v=window.voltage_v,
            phases=window.phases,
        )
        if connector is not None:
            caps.append(connector)
    return min(caps)


def _breakpoints(store: ProfileStore, window: Window) -> list[int]:
    """Offsets (whole seconds into the window) at which some profile may change its limit."""
    end = window.start + timedelta(seconds=window.duration_s)
    found = {0}
    for profile in store.installed():
        for moment in _change_moments(profile, window.start, end, window.tx_start):
            offset = math.ceil((moment - window.start).total_seconds())
            if 0 < offset < window.duration_s:
                found.add(offset)
        if len(found) >= _MAX_BREAKPOINTS:
            break
    return sorted(found)[:_MAX_BREAKPOINTS]


def _change_moments(
    profile: ChargingProfile, start: datetime, end: datetime, tx_start: datetime | None
) -> list[datetime]:
    moments = [m for m in (profile.valid_from, profile.valid_to) if m is not None]
    origin = profile.schedule_origin(start, tx_start)
    cycle = RECURRENCE_SECONDS.get(profile.recurrency or "")
    while origin < end and len(moments) < _MAX_BREAKPOINTS:
        moments.extend(origin + timedelta(seconds=p.start_s) for p in profile.periods)
        if profile.duration_s is not None:
            moments.append(origin + timedelta(seconds=profile.duration_s))
        if profile.kind is not Kind.RECURRING or not cycle:
            break
        origin += timedelta(seconds=cycle)
    return moments
