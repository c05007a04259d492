"""A closed session's CDR times and the parking it is billed for come from one computation.

The flake this guards against (tests/e2e/test_billing_through_the_stack.py, parking per
started minute): the CDR's parking_time_s was int(total) - the session's charging_s while the
cost engine billed the timeline's parking, which kept the fraction of the last second and
charged whatever the session.updated points showed; 180.4 s of timeline parking billed 4
minutes while the CDR said 180 s (3 minutes).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chargegrid.billing.domain.engine import price
from chargegrid.billing.domain.tariffs import Dimension
from chargegrid.billing.domain.timeline import (
    Observation,
    UsagePoint,
    charging_seconds,
    closed_timeline,
    seconds,
)
from tests.unit.billing.builders import a_tariff, charging_time, element, flat, parking

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
PER_STARTED_MINUTE = a_tariff(
    element(flat("1.00"), charging_time("1.20", step=60), parking("6.00", step=60))
)


def parking_seconds(timeline: list[UsagePoint]) -> Decimal:
    return sum((seconds(b.at - a.at) for a, b in pairwise(timeline) if not a.charging), Decimal(0))


def billed_minutes(timeline: list[UsagePoint], dimension: Dimension) -> Decimal:
    """Minutes of `dimension` on the bill (lines carry hours, to 6 places when shown)."""
    cost = price(PER_STARTED_MINUTE, timeline, UTC_ZONE)
    hours = sum((line.quantity for line in cost.lines if line.dimension == dimension), Decimal(0))
    return (hours * 60).quantize(Decimal("0.000001"))


def test_the_fraction_of_the_last_second_is_not_billed_as_a_started_minute() -> None:
    """The e2e case: 2 minutes charging, then parked until 5:00.4 — 3 minutes, not 4."""
    charged = T0 + timedelta(minutes=2)
    points = [
        Observation(charged, Decimal(400), 120),
        Observation(charged + timedelta(minutes=1), Decimal(400), 120),
    ]
    ended = T0 + timedelta(minutes=5, microseconds=400_000)
    timeline, times = closed_timeline(T0, points, ended, Decimal(400), 120)
    assert (times.total_s, times.charging_s, times.parking_s) == (300, 120, 180)
    assert billed_minutes(timeline, Dimension.PARKING_TIME) == 3


def test_points_showing_less_charging_than_the_session_reported_do_not_bill_more_parking() -> None:
    """The session counted 150 s charging; billing's points saw it charge for 130 s only
    (0-120 s and 290-300 s): the earliest parking, right after 120 s, becomes charging."""
    points = [
        Observation(T0 + timedelta(seconds=120), Decimal(400), 120),
        Observation(T0 + timedelta(seconds=290), Decimal(400), 120),
    ]
    timeline, times = closed_timeline(T0, points, T0 + timedelta(seconds=300), Decimal(450), 150)
    assert (times.charging_s, times.parking_s) == (150, 150)
    assert timeline == [
        UsagePoint(T0, Decimal(0), True),
        UsagePoint(T0 + timedelta(seconds=120), Decimal(400), True),
        UsagePoint(T0 + timedelta(seconds=140), Decimal(400), False),
        UsagePoint(T0 + timedelta(seconds=290), Decimal(400), True),
        UsagePoint(T0 + timedelta(seconds=300), Decimal(450), False),
    ]
    assert billed_minutes(timeline, Dimension.PARKING_TIME) == 3  # 150 s: 3 started minutes


def test_without_a_reported_charging_time_the_readings_decide_both() -> None:
    points = [
        Observation(T0 + timedelta(seconds=90.5), Decimal(300)),
        Observation(T0 + timedelta(seconds=200), Decimal(300)),
    ]
    timeline, times = closed_timeline(T0, points, T0 + timedelta(seconds=260.7), Decimal(300), None)
    assert (times.total_s, times.charging_s, times.parking_s) == (260, 90, 170)
    assert charging_seconds(timeline) == 90
    assert parking_seconds(timeline) == 170


def test_a_close_before_the_start_is_a_session_of_no_time() -> None:
    timeline, times = closed_timeline(T0, [], T0 - timedelta(seconds=5), Decimal(0), 30)
    assert (times.total_s, times.charging_s, times.parking_s) == (0, 0, 0)
    assert charging_seconds(timeline) == parking_seconds(timeline) == 0


micros = st.integers(min_value=0, max_value=4 * 3600 * 1_000_000)


@settings(max_examples=300, deadline=None)
@given(
    end_us=micros,
    at_us=st.lists(micros, max_size=8),
    grows=st.lists(st.booleans(), min_size=8, max_size=8),
    reported=st.one_of(st.none(), st.integers(min_value=1, max_value=5 * 3600)),
)
def test_cdr_times_and_billed_time_always_agree(
    end_us: int, at_us: list[int], grows: list[bool], reported: int | None
) -> None:
    """Whatever the updates, the close and the reported charging time: the timeline's
    charging and parking are the CDR's, to the microsecond, and so are the minutes billed."""
    ended = T0 + timedelta(microseconds=end_us)
    energy, charged, points = Decimal(0), 0, []
    for offset, grew in zip(sorted(at_us), grows, strict=False):
        energy += Decimal(100) if grew else 0
        charged = offset // 1_000_000 if grew else charged
        points.append(Observation(T0 + timedelta(microseconds=offset), energy, charged))
    timeline, times = closed_timeline(T0, points, ended, energy + 1, reported)
    assert times.total_s == int(seconds(ended - T0))
    assert 0 <= times.charging_s <= times.total_s
    if reported is not None:
        assert times.charging_s == min(reported, times.total_s)
    assert seconds(timeline[-1].at - timeline[0].at) == times.total_s
    assert charging_seconds(timeline) == times.charging_s
    assert parking_seconds(timeline) == times.parking_s
    if times.total_s > 0:
        parked_minutes = billed_minutes(timeline, Dimension.PARKING_TIME)
        charged_minutes = billed_minutes(timeline, Dimension.TIME)
        assert parked_minutes == math.ceil(times.parking_s / 60)
        assert charged_minutes == math.ceil(times.charging_s / 60)
