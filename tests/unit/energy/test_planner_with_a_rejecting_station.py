"""The controller's plan with a station that rejects its profiles: its retry, at the draw it
is already counted at, goes out alongside the raises to the other EVSEs instead of holding
them back until it is answered, and whatever it answers the site stays within its limit."""

from __future__ import annotations

from chargegrid.energy.allocation import (
    Evse,
    SitePolicy,
    StaleReason,
    Topology,
    allocate,
    exposure_load,
    mark_accepted,
    mark_sent,
    mark_stale,
    plan_transition,
    violations,
    worst_case_load,
)
from chargegrid.energy.planning import SitePlan, plan_site
from tests.unit.energy.allocation_builders import T0, a_site, an_evse, at

SITE = a_site(64)


def _plan(site: Topology, evses: list[Evse]) -> SitePlan:
    return plan_site(site, evses, allocate(site, evses, SitePolicy(), T0))


def _limits(steps: tuple) -> dict[str, float]:  # type: ignore[type-arg]
    return {s.key.station_id: s.limit_a for s in steps}


def _rejecting() -> Evse:
    """A station that rejected its profile and confirmed no default: counted at its 32 A."""
    return mark_stale(mark_sent(an_evse("rejecting"), 20.0), StaleReason.REJECTED)


def _safe(site: Topology, evses: list[Evse]) -> bool:
    return not violations(site, worst_case_load(site, evses)) and not violations(
        site, exposure_load(site, evses)
    )


def test_the_planner_alone_lets_the_retry_hold_back_every_raise() -> None:
    """What the controller's plan fixes: the bare planner files the retry as a lowering."""
    evses = [_rejecting(), an_evse("b", accepted_a=6.0, arrived_at=at(1))]
    bare = plan_transition(SITE, evses, allocate(SITE, evses, SitePolicy(), T0))
    assert _limits(bare.lower) == {"rejecting": 32.0}
    assert bare.raise_now == ()


def test_the_retry_at_its_counted_draw_goes_out_with_the_raise_to_the_other_ev() -> None:
    evses = [_rejecting(), an_evse("b", accepted_a=6.0, arrived_at=at(1))]
    plan = _plan(SITE, evses)
    assert _limits(plan.retries) == {"rejecting": 32.0}
    assert plan.plan.lower == ()
    # 64 A less the 32 A the rejecting station may draw.
    assert _limits(plan.plan.raise_now) == {"b": 32.0}


def test_whatever_the_rejecting_station_answers_the_site_stays_within_its_limit() -> None:
    rejecting, b = _rejecting(), an_evse("b", accepted_a=6.0, arrived_at=at(1))
    plan = _plan(SITE, [rejecting, b])
    sent = {e.key: e for e in (rejecting, b)}
    for step in plan.steps:
        sent[step.key] = mark_sent(sent[step.key], step.limit_a)
    assert _safe(SITE, list(sent.values()))
    raised = mark_accepted(sent[b.key])
    for answer in (
        mark_stale(sent[rejecting.key], StaleReason.REJECTED),
        mark_stale(sent[rejecting.key], StaleReason.NO_ANSWER),
        mark_accepted(sent[rejecting.key]),
    ):
        assert _safe(SITE, [answer, raised])


def test_while_the_retry_is_unanswered_the_others_are_still_raised() -> None:
    waiting = mark_sent(_rejecting(), 32.0)
    plan = _plan(SITE, [waiting, an_evse("b", accepted_a=6.0, arrived_at=at(1))])
    assert plan.retries == ()
    assert _limits(plan.plan.raise_now) == {"b": 32.0}


def test_a_real_lowering_still_holds_back_the_raises_beside_the_retry() -> None:
    evses = [
        _rejecting(),
        an_evse("high", accepted_a=32.0),
        an_evse("new", accepted_a=0.0, arrived_at=at(2)),
    ]
    plan = _plan(SITE, evses)
    assert _limits(plan.retries) == {"rejecting": 32.0}
    assert _limits(plan.plan.lower) == {"high": 16.0}
    assert plan.plan.raise_now == ()
    assert _limits(plan.plan.raise_later) == {"new": 16.0}


def test_a_raise_that_only_fits_without_the_stale_station_waits() -> None:
    """The stale station is left out of the target, not out of the count: a raise planned
    while it still seemed to take little has to fit beside the 32 A it is counted at."""
    b = an_evse("b", max_current_a=48.0, accepted_a=6.0, arrived_at=at(1))
    taking_little = an_evse("rejecting", accepted_a=20.0, measured_a=(2.0, 2.0, 2.0))
    earlier = allocate(SITE, [taking_little, b], SitePolicy(), T0)
    assert earlier.limit_for(b.key) == 48.0
    plan = plan_site(SITE, [_rejecting(), b], earlier)
    assert _limits(plan.retries) == {"rejecting": 32.0}
    assert plan.plan.raise_now == ()
    assert _limits(plan.plan.raise_later) == {"b": 48.0}
