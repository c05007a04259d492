"""15-minute windows, site-local labels across DST, and energy spread between readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargegrid.analytics.readings import RANK_SAMPLE, Reading, chain_energy, energy_change
from chargegrid.analytics.windows import local_labels, window_start, windows_between

T0 = datetime(2026, 3, 29, 0, 50, tzinfo=UTC)


def a_reading(minutes: float, wh: float, evse: int = 1) -> Reading:
    return Reading("tx-1", evse, T0 + timedelta(minutes=minutes), RANK_SAMPLE, wh)


def test_a_window_starts_on_the_quarter_hour_in_utc() -> None:
    assert window_start(datetime(2026, 3, 29, 1, 44, 59, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_a_span_is_cut_at_every_window_it_crosses() -> None:
    cuts = list(windows_between(T0, T0 + timedelta(minutes=30)))
    assert [(start.minute, seconds) for start, seconds in cuts] == [
        (45, 600.0),
        (0, 900.0),
        (15, 300.0),
    ]


def test_labels_follow_the_site_clock_across_the_spring_dst_change() -> None:
    before = local_labels(datetime(2026, 3, 29, 0, 45, tzinfo=UTC), "Europe/Berlin")
    after = local_labels(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/Berlin")
    assert (before.hour, after.hour) == ("2026-03-29T01:00+01:00", "2026-03-29T03:00+02:00")
    assert before.day == after.day == "2026-03-29"


def test_the_repeated_autumn_hour_stays_two_buckets() -> None:
    first = local_labels(datetime(2026, 10, 25, 0, 15, tzinfo=UTC), "Europe/Berlin")
    second = local_labels(datetime(2026, 10, 25, 1, 15, tzinfo=UTC), "Europe/Berlin")
    assert first.quarter == "2026-10-25T02:15+02:00"
    assert second.quarter == "2026-10-25T02:15+01:00"


def test_an_unknown_zone_counts_in_utc_rather_than_stopping_ingest() -> None:
    assert local_labels(T0, "Mars/Olympus").hour == "2026-03-29T00:00+00:00"


def test_energy_between_two_readings_is_spread_evenly_over_the_windows() -> None:
    energy = chain_energy([a_reading(0, 1000), a_reading(30, 1600)])
    assert sorted(energy.values()) == pytest.approx([100, 200, 300])
    assert sum(energy.values()) == pytest.approx(600)


def test_a_register_reset_or_a_lower_reading_counts_nothing() -> None:
    assert chain_energy([a_reading(0, 5000), a_reading(5, 10), a_reading(10, 20)]) == {
        (1, window_start(T0 + timedelta(minutes=5))): pytest.approx(10)
    }


def test_a_late_reading_in_the_middle_moves_energy_between_windows_and_keeps_the_total() -> None:
    outer = [a_reading(0, 1000), a_reading(30, 1600)]
    merged = [outer[0], a_reading(10, 1500), outer[1]]
    change = energy_change(outer, merged)
    assert sum(change.values()) == pytest.approx(0)
    applied = chain_energy(outer)
    for key, wh in change.items():
        applied[key] = applied.get(key, 0.0) + wh
    assert applied == pytest.approx(chain_energy(merged))


def test_readings_after_the_stored_tail_or_repeating_it_take_the_fast_path() -> None:
    from chargegrid.analytics.readings import RANK_START
    from chargegrid.analytics.tails import follows

    tail = [a_reading(10, 500.0)]
    assert follows([], [a_reading(0, 1.0)])
    assert follows(tail, [a_reading(11, 600.0)])
    # The same instant again (a station sending the same second twice): already stored.
    assert follows(tail, [a_reading(10, 500.0), a_reading(12, 700.0)])
    # Before the tail, or at its instant but ranked before it: the stored chain is needed.
    assert not follows(tail, [a_reading(9, 400.0)])
    start = Reading("tx-1", 1, T0 + timedelta(minutes=10), RANK_START, 450.0)
    assert RANK_START < RANK_SAMPLE
    assert not follows(tail, [start])
