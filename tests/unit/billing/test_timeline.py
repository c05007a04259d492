"""Building the usage timeline from a session's start, stored updates and close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chargegrid.billing.domain.timeline import (
    Observation,
    UsagePoint,
    build_timeline,
    charging_seconds,
    extrapolate,
)

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_updates_become_points_and_flat_energy_is_parking() -> None:
    timeline = build_timeline(
        T0,
        [Observation(at(30), Decimal(5000), 1800), Observation(at(45), Decimal(5000), 1800)],
        Observation(at(60), Decimal(5000), 1800),
    )
    assert timeline == [
        UsagePoint(T0, Decimal(0), True),
        UsagePoint(at(30), Decimal(5000), False),
        UsagePoint(at(45), Decimal(5000), False),
        UsagePoint(at(60), Decimal(5000), False),
    ]


def test_a_close_with_less_charging_time_parks_the_end_of_the_session() -> None:
    timeline = build_timeline(T0, [], Observation(at(60), Decimal(7000), 35 * 60), reconcile=True)
    assert timeline == [
        UsagePoint(T0, Decimal(0), True),
        UsagePoint(at(35), Decimal(7000), False),
        UsagePoint(at(60), Decimal(7000), False),
    ]
    assert charging_seconds(timeline) == 35 * 60


def test_energy_never_goes_backwards_nor_beyond_the_close() -> None:
    timeline = build_timeline(
        T0,
        [Observation(at(10), Decimal(3000), 600), Observation(at(20), Decimal(2000), 1200)],
        Observation(at(30), Decimal(2500), 1800),
    )
    assert [p.energy_wh for p in timeline] == [0, 2500, 2500, 2500]


def test_updates_outside_the_session_are_ignored() -> None:
    timeline = build_timeline(
        T0,
        [Observation(at(-5), Decimal(1)), Observation(at(90), Decimal(9))],
        Observation(at(60), Decimal(1000), 3600),
    )
    assert [p.at for p in timeline] == [T0, at(60)]


def test_a_running_session_is_continued_at_its_last_power() -> None:
    last = Observation(at(30), Decimal(11000), 1800, Decimal(22000))
    now = extrapolate([last], at(45))
    assert now == Observation(at(45), Decimal(16500), 2700, Decimal(22000))
    assert extrapolate([], at(45)) is None
