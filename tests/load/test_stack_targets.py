"""bench_stack's reading of issue 14's targets: what counts as met, growth and not measured."""

from __future__ import annotations

from typing import Any

from bench.stack_targets import lag_growth_per_s, targets


def a_closed_loop(**overrides: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "load": {"calls_per_s": 3000, "reply_p99_ms": 40.0},
        "consumer_groups": {
            "session@transaction.events.v1": {
                "caught_up_after_s": 0.5,
                "lag_each_second_during_load": [0, 800, 2400, 2500, 2300, 2450, 2400, 2500],
            }
        },
        "cpu_s_per_1000_calls": {"gateway": 0.12, "session": 0.09},
        "consumers_cpu_vs_gateway": 0.9,
    }
    section.update(overrides)
    return section


def test_a_lag_plateau_of_one_batch_in_flight_is_not_growth() -> None:
    found = targets(a_closed_loop(), plain_rate=1000, storm=None)
    assert found["lag_growth_records_per_s"]["met"] is True
    assert found["meter_values_vs_plain_ocpp"] == {"value": 3.0, "target": ">= 2.0", "met": True}


def test_a_lag_that_climbs_through_the_load_is_growth() -> None:
    climbing = {"lag_each_second_during_load": [0, 500, 1000, 2000, 3000, 4000, 5000, 6000]}
    groups = {"session@transaction.events.v1": {"caught_up_after_s": 9.0, **climbing}}
    found = targets(a_closed_loop(consumer_groups=groups), plain_rate=1000, storm=None)
    assert lag_growth_per_s(groups)["session@transaction.events.v1"] == 1000.0
    assert found["lag_growth_records_per_s"]["met"] is False
    assert found["consumers_idle_within_s_of_load_end"]["met"] is False


def test_a_group_that_never_caught_up_fails_the_idle_target_by_name() -> None:
    groups = {"billing@session.events.v1": {"caught_up_after_s": None}}
    found = targets(a_closed_loop(consumer_groups=groups), plain_rate=1000, storm=None)
    idle = found["consumers_idle_within_s_of_load_end"]
    assert (idle["met"], idle["value"]) == (False, "not caught up: billing@session.events.v1")


def test_a_boot_storm_not_run_leaves_its_targets_unmeasured() -> None:
    found = targets(a_closed_loop(), plain_rate=1000, storm=None)
    assert found["boot_storm_all_accepted_s"] == {"value": None, "target": "<= 60", "met": None}


def test_a_boot_storm_with_a_refused_boot_misses_its_targets() -> None:
    storm: dict[str, Any] = {"all_accepted_s": None, "errors": 1, "services_restarted": []}
    found = targets(a_closed_loop(), plain_rate=1000, storm=storm)
    assert found["boot_storm_errors"]["met"] is False
    assert found["boot_storm_all_accepted_s"] == {
        "value": "not all Accepted",
        "target": "<= 60",
        "met": False,
    }
    assert found["boot_storm_services_restarted"]["met"] is True


def test_a_boot_storm_whose_boots_the_gateway_decided_itself_misses_its_target() -> None:
    storm: dict[str, Any] = {
        "all_accepted_s": 50.0,
        "errors": 0,
        "services_restarted": [],
        "decisions_by_gateway_fallback": {"boot": 4136, "total": 4136},
    }
    found = targets(a_closed_loop(), plain_rate=1000, storm=storm)
    assert found["boot_storm_all_accepted_s"]["met"] is True
    assert found["boot_storm_decisions_by_gateway_fallback"] == {
        "value": 4136,
        "target": "0",
        "met": False,
    }
