"""The transition planner: lower first, raise after confirmation, never past a limit."""

from __future__ import annotations

from chargegrid.energy.allocation import (
    Direction,
    Evse,
    EvseKey,
    SitePolicy,
    StaleReason,
    Topology,
    allocate,
    mark_accepted,
    mark_reconnected,
    mark_sent,
    mark_session_ended,
    mark_session_started,
    mark_stale,
    plan_transition,
    worst_case_load,
)
from tests.unit.energy.allocation_builders import T0, a_site, amps, an_evse, at

SITE = a_site(32)


def plan(site: Topology, evses: list[Evse]):  # type: ignore[no-untyped-def]
    return plan_transition(site, evses, allocate(site, evses, SitePolicy(), T0))


def steps(steps: tuple) -> dict[str, float]:  # type: ignore[type-arg]
    return {s.key.station_id: s.limit_a for s in steps}


def test_a_new_ev_first_lowers_the_others_and_waits_before_raising_itself() -> None:
    a = an_evse("a", accepted_a=32.0)
    b = an_evse("b", accepted_a=0.0, arrived_at=at(5))
    first = plan(SITE, [a, b])
    assert steps(first.lower) == {"a": 16.0}
    assert first.lower[0].direction is Direction.LOWER
    assert first.raise_now == ()
    assert steps(first.raise_later) == {"b": 16.0}


def test_raises_wait_while_a_lowered_station_has_not_confirmed() -> None:
    a = mark_sent(an_evse("a", accepted_a=32.0), 16.0)
    b = an_evse("b", accepted_a=0.0, arrived_at=at(5))
    waiting = plan(SITE, [a, b])
    assert waiting.steps == ()
    assert steps(waiting.raise_later) == {"b": 16.0}


def test_once_the_lowered_station_confirmed_the_raise_goes_out() -> None:
    a = mark_accepted(mark_sent(an_evse("a", accepted_a=32.0), 16.0))
    b = an_evse("b", accepted_a=0.0, arrived_at=at(5))
    after = plan(SITE, [a, b])
    assert after.lower == ()
    assert steps(after.raise_now) == {"b": 16.0}
    sent = [a, mark_sent(b, 16.0)]
    assert worst_case_load(SITE, sent)["grid"] == amps(32.0)


def test_a_lowered_station_that_rejects_keeps_the_raise_from_going_out() -> None:
    a = mark_stale(mark_sent(an_evse("a", accepted_a=32.0), 16.0), StaleReason.REJECTED)
    b = an_evse("b", accepted_a=0.0, arrived_at=at(5))
    after = plan(SITE, [a, b])
    # a may still draw 32 A, so b stays paused and a is offered its old limit to confirm.
    assert steps(after.lower) == {"a": 32.0}
    assert after.raise_now == ()
    assert worst_case_load(SITE, [a, b])["grid"] == amps(32.0)


def test_a_raise_that_would_not_fit_the_worst_case_waits_even_with_nothing_pending() -> None:
    # The allocation is computed for a higher limit than is in force right now.
    evses = [an_evse("a", accepted_a=20.0), an_evse("b", accepted_a=0.0)]
    target = allocate(a_site(64), evses, SitePolicy(), T0)
    result = plan_transition(SITE, evses, target)
    assert result.lower == ()
    # a's 12 A more fits next to b's 0 A; b's 32 A more would not fit after it.
    assert steps(result.raise_now) == {"a": 32.0}
    assert steps(result.raise_later) == {"b": 32.0}


def test_a_station_with_a_limit_unanswered_gets_nothing_new() -> None:
    a = mark_sent(an_evse("a", accepted_a=6.0), 16.0)
    assert plan(SITE, [a]).done


def test_a_station_that_did_not_answer_is_held_at_the_higher_limit_and_offered_it() -> None:
    sent = mark_sent(an_evse("a", accepted_a=10.0, offline_fallback_a=6.0), 20.0)
    silent = mark_stale(sent, StaleReason.NO_ANSWER)
    assert silent.accepted_a == 20.0
    assert silent.pending_a is None
    assert steps(plan(SITE, [silent]).lower) == {"a": 20.0}


def test_a_stale_station_without_a_fallback_is_offered_its_maximum() -> None:
    silent = mark_stale(mark_sent(an_evse("a", accepted_a=10.0), 20.0), StaleReason.NO_ANSWER)
    assert steps(plan(SITE, [silent]).lower) == {"a": 32.0}


def test_an_offline_station_gets_nothing_until_it_is_back() -> None:
    offline = mark_stale(an_evse("a", accepted_a=10.0), StaleReason.OFFLINE)
    assert plan(SITE, [offline]).steps == ()
    back = mark_reconnected(offline)
    assert back.stale is StaleReason.NO_ANSWER
    assert steps(plan(SITE, [back]).lower) == {"a": 32.0}


def test_a_confirmation_makes_a_stale_station_trusted_again() -> None:
    stale = mark_stale(an_evse("a", accepted_a=10.0), StaleReason.REJECTED)
    trusted = mark_accepted(mark_sent(stale, 32.0))
    assert trusted.stale is None
    assert trusted.accepted_a == 32.0


def test_a_session_end_returns_the_evse_to_its_fallback() -> None:
    charging = mark_sent(an_evse("a", accepted_a=20.0, offline_fallback_a=6.0, ev_phases=1), 16)
    ended = mark_session_ended(charging)
    assert (ended.active, ended.accepted_a, ended.pending_a, ended.ev_phases) == (
        False,
        6.0,
        None,
        None,
    )
    again = mark_session_started(ended, at(30))
    assert again.active
    assert again.arrived_at == at(30)


def test_an_unchanged_allocation_needs_no_step() -> None:
    evses = [an_evse("a", accepted_a=16.0), an_evse("b", accepted_a=16.0)]
    result = plan(SITE, evses)
    assert result.done
    assert {s for s in result.steps if s.key == EvseKey("a", 1)} == set()
