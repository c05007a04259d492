"""Each allocation rule of issue 15 on a small site, with the exact numbers it must give."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargegrid.energy.allocation import (
    EnergyModelError,
    EvseError,
    EvseKey,
    Node,
    Phase,
    PhaseCurrents,
    PolicyName,
    Reason,
    SitePolicy,
    StaleReason,
    Topology,
    TopologyError,
    allocate,
    safe_fallback_limits,
    violations,
    worst_case_load,
)
from tests.unit.energy.allocation_builders import T0, a_site, amps, an_evse, at

FAIR = SitePolicy()


def limits(allocation: object) -> dict[str, float]:
    return {key.station_id: a.limit_a for key, a in allocation.evses.items()}  # type: ignore[attr-defined]


def test_a_cycle_in_the_circuit_tree_is_refused() -> None:
    with pytest.raises(TopologyError, match="cycle"):
        Topology(
            "s",
            (
                Node("grid", None, amps(63)),
                Node("a", "b", amps(16)),
                Node("b", "a", amps(16)),
            ),
        )


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ((Node("grid", None, amps(63)), Node("a", "nowhere", amps(16))), "unknown parent"),
        ((Node("grid", None, amps(63)), Node("other", None, amps(16))), "exactly one"),
        ((Node("grid", None, amps(63)), Node("grid", None, amps(16))), "twice"),
    ],
)
def test_a_tree_with_orphans_two_roots_or_duplicates_is_refused(
    nodes: tuple[Node, ...], message: str
) -> None:
    with pytest.raises(TopologyError, match=message):
        Topology("s", nodes)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), 20_000.0])
def test_negative_or_absurd_node_limits_are_refused(bad: float) -> None:
    with pytest.raises(TopologyError):
        Node("grid", None, PhaseCurrents(63, bad, 63))


def test_an_evse_whose_minimum_exceeds_its_maximum_is_refused() -> None:
    with pytest.raises(EvseError, match="min current"):
        an_evse("a", max_current_a=6.0, min_current_a=8.0)


def test_a_rotation_that_does_not_match_the_wiring_is_refused() -> None:
    with pytest.raises(EvseError, match="rotation"):
        an_evse("a", phases=1)
    with pytest.raises(EvseError, match="rotation"):
        an_evse("a", rotation=(Phase.L1, Phase.L1, Phase.L2))


def test_an_evse_on_an_unknown_node_or_listed_twice_is_refused() -> None:
    with pytest.raises(EvseError, match="unknown node"):
        allocate(a_site(32), [an_evse("a", node_id="nowhere")], FAIR, T0)
    with pytest.raises(EvseError, match="twice"):
        allocate(a_site(32), [an_evse("a"), an_evse("a")], FAIR, T0)


def test_a_ramp_margin_that_would_make_capped_evs_flap_is_refused() -> None:
    with pytest.raises(EnergyModelError, match="flap"):
        SitePolicy(unused_threshold_a=2.0, ramp_margin_a=2.0)


def test_the_rest_above_minimums_is_shared_by_weight() -> None:
    evses = [an_evse("a"), an_evse("b", weight=3.0)]
    result = allocate(a_site(32), evses, FAIR, T0)
    assert limits(result) == {"a": 8.0, "b": 24.0}
    assert result.evses[EvseKey("a", 1)].reason is Reason.CAPPED_BY_NODE
    assert result.evses[EvseKey("a", 1)].node_id == "grid"


def test_who_does_not_fit_their_minimum_is_paused_in_priority_then_arrival_order() -> None:
    evses = [
        an_evse("early", arrived_at=at(0)),
        an_evse("second", arrived_at=at(1)),
        an_evse("late", arrived_at=at(2)),
        an_evse("vip", arrived_at=at(3), priority=1),
    ]
    result = allocate(a_site(20), evses, FAIR, T0)
    # Three minimums of 6 A fit in 20 A; the last to arrive without priority waits.
    assert limits(result) == {"early": 6.6, "second": 6.6, "late": 0.0, "vip": 6.6}
    assert result.evses[EvseKey("late", 1)].reason is Reason.PAUSED


def test_a_limit_below_the_sum_of_minimums_pauses_everyone_who_does_not_fit() -> None:
    result = allocate(a_site(5), [an_evse("a"), an_evse("b")], FAIR, T0)
    assert limits(result) == {"a": 0.0, "b": 0.0}
    assert {a.reason for a in result.evses.values()} == {Reason.PAUSED}


def test_each_evse_stays_within_its_own_maximum_and_the_rest_goes_to_others() -> None:
    evses = [an_evse("small", max_current_a=10.0), an_evse("b"), an_evse("c")]
    result = allocate(a_site(40), evses, FAIR, T0)
    assert limits(result) == {"small": 10.0, "b": 15.0, "c": 15.0}
    assert result.evses[EvseKey("small", 1)].reason is Reason.AT_MAX


def test_a_sub_circuit_caps_the_evses_below_it_and_the_grid_shares_the_rest() -> None:
    site = a_site(63, ("garage", "grid", 20))
    evses = [
        an_evse("g1", node_id="garage"),
        an_evse("g2", node_id="garage"),
        an_evse("p1"),
        an_evse("p2"),
    ]
    result = allocate(site, evses, FAIR, T0)
    assert limits(result) == {"g1": 10.0, "g2": 10.0, "p1": 21.5, "p2": 21.5}
    assert result.evses[EvseKey("g1", 1)].node_id == "garage"
    assert result.nodes["garage"].headroom_a == PhaseCurrents(0.0, 0.0, 0.0)
    assert result.nodes["grid"].planned_a == PhaseCurrents(63.0, 63.0, 63.0)


def test_one_phase_stations_load_only_the_grid_phase_of_their_rotation() -> None:
    evses = [
        an_evse("on_l1", phases=1, rotation=(Phase.L1,)),
        an_evse("on_l2", phases=1, rotation=(Phase.L2,)),
        an_evse("three"),
    ]
    result = allocate(a_site(32), evses, FAIR, T0)
    # L1 and L2 each carry one single-phase EVSE and the 3-phase one: 16 A each.
    assert limits(result) == {"on_l1": 16.0, "on_l2": 16.0, "three": 16.0}
    assert result.nodes["grid"].planned_a == PhaseCurrents(32.0, 32.0, 16.0)


def test_a_one_phase_ev_on_a_three_phase_station_loads_only_its_rotated_phase() -> None:
    rotated = (Phase.L2, Phase.L3, Phase.L1)
    evses = [
        an_evse("single", rotation=rotated, ev_phases=1, offline_fallback_a=0.0),
        an_evse("on_l2", phases=1, rotation=(Phase.L2,)),
    ]
    result = allocate(a_site(20), evses, FAIR, T0)
    assert limits(result) == {"single": 10.0, "on_l2": 10.0}
    assert result.evses[EvseKey("single", 1)].grid_phases == (Phase.L2,)
    assert result.nodes["grid"].planned_a == PhaseCurrents(0.0, 20.0, 0.0)


def test_without_a_fallback_a_one_phase_ev_is_still_counted_on_all_station_phases() -> None:
    # Nothing would cap the next EV on the other phases, so they stay counted.
    evse = an_evse("single", ev_phases=1, accepted_a=16.0)
    load = worst_case_load(a_site(32), [evse])
    assert load["grid"] == PhaseCurrents(16.0, 16.0, 16.0)


def test_what_an_ev_does_not_draw_goes_to_the_others_with_a_margin_to_ramp_back() -> None:
    slow = an_evse("slow", accepted_a=16.0, measured_a=(5.0, 5.0, 5.0))
    result = allocate(a_site(32), [slow, an_evse("b")], FAIR, T0)
    assert limits(result) == {"slow": 8.0, "b": 24.0}
    assert result.evses[EvseKey("slow", 1)].reason is Reason.LIMITED_BY_DRAW


def test_an_ev_capped_by_its_draw_stays_capped_while_it_keeps_its_draw() -> None:
    slow = an_evse("slow", accepted_a=8.0, measured_a=(5.0, 5.0, 5.0))
    result = allocate(a_site(32), [slow, an_evse("b")], FAIR, T0)
    assert limits(result) == {"slow": 8.0, "b": 24.0}


def test_an_ev_that_draws_its_allowance_again_gets_its_share_back() -> None:
    ramped = an_evse("ramped", accepted_a=8.0, measured_a=(7.8, 7.9, 7.7))
    result = allocate(a_site(32), [ramped, an_evse("b")], FAIR, T0)
    assert limits(result) == {"ramped": 16.0, "b": 16.0}


def test_an_ev_drawing_nothing_keeps_its_minimum_rather_than_being_paused() -> None:
    full = an_evse("full", accepted_a=16.0, measured_a=(0.0, 0.0, 0.0))
    result = allocate(a_site(32), [full, an_evse("b")], FAIR, T0)
    assert limits(result) == {"full": 6.0, "b": 26.0}


def test_priority_policy_fills_the_higher_level_before_the_lower_one_gets_more() -> None:
    evses = [an_evse("vip", priority=1), an_evse("b"), an_evse("c")]
    result = allocate(a_site(40), evses, SitePolicy(name=PolicyName.PRIORITY), T0)
    # Minimums first (3 x 6 A), then the 22 A left all go to the higher priority.
    assert limits(result) == {"vip": 28.0, "b": 6.0, "c": 6.0}


def test_fair_policy_uses_priority_only_to_decide_who_is_paused() -> None:
    evses = [an_evse("vip", priority=1), an_evse("b"), an_evse("c")]
    result = allocate(a_site(39), evses, FAIR, T0)
    assert limits(result) == {"vip": 13.0, "b": 13.0, "c": 13.0}


def test_deadline_policy_gives_an_ev_that_would_miss_its_departure_what_it_needs_first() -> None:
    # 27.6 kWh in 2 h on 3 x 230 V is 20 A; a fair split of 32 A would give it only 16 A.
    urgent = an_evse("urgent", departure_at=T0 + timedelta(hours=2), energy_needed_wh=27_600.0)
    evses = [urgent, an_evse("b")]
    deadline = allocate(a_site(32), evses, SitePolicy(name=PolicyName.DEADLINE), T0)
    assert limits(deadline) == {"urgent": 20.0, "b": 12.0}
    assert limits(allocate(a_site(32), evses, FAIR, T0)) == {"urgent": 16.0, "b": 16.0}


def test_deadline_policy_shares_a_shortfall_as_an_equal_fraction_of_each_need() -> None:
    # Needs of 20 A and 10 A on 24 A: each gets 4/5 of what it needs.
    a = an_evse("a", departure_at=T0 + timedelta(hours=2), energy_needed_wh=27_600.0)
    b = an_evse("b", departure_at=T0 + timedelta(hours=2), energy_needed_wh=13_800.0)
    result = allocate(a_site(24), [a, b], SitePolicy(name=PolicyName.DEADLINE), T0)
    assert limits(result) == {"a": 16.0, "b": 8.0}


def test_a_stale_station_without_fallback_is_held_at_its_maximum() -> None:
    stale = an_evse("stale", accepted_a=10.0, stale=StaleReason.REJECTED)
    result = allocate(a_site(40), [stale, an_evse("b")], FAIR, T0)
    assert limits(result) == {"stale": 32.0, "b": 8.0}
    assert result.evses[EvseKey("stale", 1)].reason is Reason.STALE


def test_an_offline_station_with_a_fallback_is_held_at_the_higher_of_it_and_its_limit() -> None:
    offline = an_evse("off", accepted_a=10.0, offline_fallback_a=6.0, stale=StaleReason.OFFLINE)
    result = allocate(a_site(40), [offline, an_evse("b")], FAIR, T0)
    assert limits(result) == {"off": 10.0, "b": 30.0}


def test_every_fallback_stays_reserved_so_anyone_may_go_stale() -> None:
    evses = [an_evse("a", offline_fallback_a=10.0), an_evse("b", offline_fallback_a=10.0)]
    idle = an_evse("idle", offline_fallback_a=10.0, active=False)
    result = allocate(a_site(40), [*evses, idle], FAIR, T0)
    assert limits(result) == {"a": 15.0, "b": 15.0, "idle": 10.0}
    assert result.evses[EvseKey("idle", 1)].reason is Reason.IDLE


def test_a_kw_limit_becomes_a_conservative_per_phase_current() -> None:
    site = Topology("s", (Node("grid", None, amps(63), limit_kw=22.0),))
    result = allocate(site, [an_evse("a"), an_evse("b")], FAIR, T0)
    # 22 kW / (3 x 230 V) = 31.88 A per phase, rounded down per EVSE.
    assert limits(result) == {"a": 15.9, "b": 15.9}


def test_the_worst_case_counts_pending_and_unconfirmed_limits_at_their_highest() -> None:
    evses = [
        an_evse("raising", accepted_a=10.0, pending_a=16.0),
        an_evse("lowering", accepted_a=16.0, pending_a=10.0),
        an_evse("unknown"),
        an_evse("silent", accepted_a=8.0, stale=StaleReason.NO_ANSWER, offline_fallback_a=6.0),
    ]
    load = worst_case_load(a_site(100), evses)
    assert load["grid"] == PhaseCurrents.uniform(16.0 + 16.0 + 32.0 + 8.0)
    assert violations(a_site(70), load)[0].load_a == 72.0


def test_fallbacks_split_each_node_evenly_and_are_zero_below_the_minimum() -> None:
    five = [an_evse(f"e{k}") for k in range(5)]
    assert set(safe_fallback_limits(a_site(40), five).values()) == {8.0}
    ten = [an_evse(f"e{k}") for k in range(10)]
    assert set(safe_fallback_limits(a_site(40), ten).values()) == {0.0}
    site = a_site(63, ("garage", "grid", 20))
    mixed = [an_evse("g", node_id="garage"), an_evse("p", phases=1, rotation=(Phase.L3,))]
    assert safe_fallback_limits(site, mixed) == {EvseKey("g", 1): 20.0, EvseKey("p", 1): 31.5}
