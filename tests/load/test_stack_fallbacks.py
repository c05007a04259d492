"""The stack benchmark's count of decisions the gateway took by its own fallback."""

from __future__ import annotations

from bench.stack_fallbacks import counts_of, taken_between

EXPOSITION = """\
# HELP chargegrid_gateway_decision_fallbacks_total Decisions the gateway took itself
# TYPE chargegrid_gateway_decision_fallbacks_total counter
chargegrid_gateway_decision_fallbacks_total{decision="transaction_id",outcome="local"} 5.0
chargegrid_gateway_decision_fallbacks_total{decision="authorize",outcome="cached"} 2.0
chargegrid_gateway_decision_fallbacks_total{decision="authorize",outcome="Invalid"} 1.0
chargegrid_gateway_decision_fallbacks_created{decision="authorize",outcome="Invalid"} 1.7e9
chargegrid_bus_published_total{topic="transaction.events.v1"} 900.0
"""


def test_every_outcome_of_a_decision_is_summed_and_other_metrics_ignored() -> None:
    assert counts_of(EXPOSITION) == {"transaction_id": 5.0, "authorize": 3.0}


def test_a_gateway_that_never_fell_back_has_no_counter_yet() -> None:
    assert counts_of("# HELP something else\n") == {}
    assert taken_between({}, {}) == {"total": 0}


def test_only_the_fallbacks_taken_during_the_section_are_counted() -> None:
    before = {"authorize": 1.0, "boot": 4.0}
    taken = taken_between(before, counts_of(EXPOSITION) | {"boot": 4.0})
    assert taken == {"authorize": 2, "transaction_id": 5, "total": 7}
