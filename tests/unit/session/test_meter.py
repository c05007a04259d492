"""Meter arithmetic: positive energy only, order-independent totals, power and charging time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chargegrid.session.domain.meter import (
    ChargingTrack,
    Reading,
    RegisterTrack,
    advance,
    observe,
    positive_energy,
    power_totals,
    recount,
    register_readings,
)
from chargegrid.session.domain.model import Sample

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def readings(*pairs: tuple[float, float]) -> list[Reading]:
    return [Reading(at(minute), wh) for minute, wh in pairs]


def test_energy_is_the_sum_of_increments_between_readings() -> None:
    assert positive_energy(readings((0, 1000), (1, 1500), (2, 2500))) == 1500


def test_a_register_reset_counts_nothing_and_counting_resumes_from_the_new_value() -> None:
    series = readings((0, 90_000), (1, 91_000), (2, 10), (3, 510))
    assert positive_energy(series) == 1000 + 500


def test_a_register_going_backwards_never_makes_energy_negative() -> None:
    assert positive_energy(readings((0, 5000), (1, 4000), (2, 3000))) == 0


def test_readings_are_put_in_time_order_before_counting() -> None:
    shuffled = readings((2, 2500), (0, 1000), (1, 1500))
    assert positive_energy(shuffled) == 1500


def test_in_order_readings_extend_the_running_total_like_a_recount() -> None:
    first = recount(readings((0, 1000), (1, 1200)))
    extended = advance(first, readings((2, 1700), (3, 1600), (4, 1800)))
    assert extended == recount(readings((0, 1000), (1, 1200), (2, 1700), (3, 1600), (4, 1800)))


def test_a_reading_older_than_the_newest_asks_for_a_recount() -> None:
    track = recount(readings((0, 1000), (5, 2000)))
    assert advance(track, readings((3, 1500))) is None
    assert advance(track, readings((5, 2100))) == recount(
        readings((0, 1000), (5, 2000), (5, 2100))
    ), "a second reading of the same instant follows the first, as in a recount"
    # ... but not one that ranks before the last: a meter start, or anything after a stop.
    assert advance(track, [Reading(at(5), 1900, rank=0)]) is None
    assert advance(track, [Reading(at(5), 2100, rank=1)], last_rank=2) is None


def test_the_newest_reading_sent_again_changes_nothing_without_a_recount() -> None:
    track = recount(readings((0, 1000), (5, 2000)))
    assert advance(track, readings((5, 2000))) == track
    assert advance(track, readings((5, 2000), (6, 2300))) == recount(
        readings((0, 1000), (5, 2000), (6, 2300))
    )


def test_an_empty_track_takes_its_first_reading_as_the_baseline() -> None:
    assert advance(RegisterTrack(), readings((0, 7000))) == RegisterTrack(0.0, at(0), 7000)


def test_meter_start_comes_before_and_meter_stop_after_samples_of_the_same_instant() -> None:
    series = [Reading(at(0), 100, rank=2), Reading(at(0), 50, rank=1), Reading(at(0), 0, rank=0)]
    assert positive_energy(series) == 100


def test_only_the_outlet_total_register_is_an_energy_reading() -> None:
    samples = [
        Sample(at(0), "Energy.Active.Import.Register", 100.0),
        Sample(at(0), "Energy.Active.Import.Register", 30.0, phase="L1"),
        Sample(at(0), "Energy.Active.Import.Register", 90.0, location="EV"),
        Sample(at(0), "Power.Active.Import", 7000.0),
    ]
    assert register_readings(samples) == [Reading(at(0), 100.0)]


def test_power_is_the_total_when_sent_else_the_sum_of_the_phases() -> None:
    samples = [
        Sample(at(0), "Power.Active.Import", 7200.0),
        Sample(at(0), "Power.Active.Import", 2400.0, phase="L1"),
        Sample(at(1), "Power.Active.Import", 3000.0, phase="L1"),
        Sample(at(1), "Power.Active.Import", 3100.0, phase="L2"),
        Sample(at(1), "Current.Import", 16.0, phase="L1"),
    ]
    assert power_totals(samples) == [(at(0), 7200.0), (at(1), 6100.0)]


def test_charging_time_counts_intervals_that_began_while_charging() -> None:
    track = observe(ChargingTrack(), [(at(0), True), (at(10), False), (at(20), True)])
    track = observe(track, [(at(25), False)])
    assert track.seconds == (10 + 5) * 60


def test_late_charging_observations_are_ignored() -> None:
    track = observe(ChargingTrack(), [(at(0), True), (at(10), True)])
    assert observe(track, [(at(5), False)]) == track


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3000)), min_size=1, max_size=12))
def test_extending_sample_by_sample_always_equals_a_recount_of_what_arrived(
    arrivals: list[tuple[int, int]],
) -> None:
    """Arrival order is the tie-break of a recount (stored rows keep it), so whatever order
    samples come in, extending (or recounting when refused) gives the recount so far."""
    track, seen = RegisterTrack(), []
    for minute, wh in arrivals:
        reading = Reading(at(minute), wh)
        seen.append(reading)
        track = advance(track, [reading]) or recount(seen)
        assert track.energy_wh == recount(seen).energy_wh
