"""The fast water-filling (allocation/filling.py) against the reference (allocation/reference.py).

The fast fill claims the same float operations in the same order as the reference, so the
whole allocation (limits, reasons, the node that capped each EVSE, planned loads) must be equal,
not merely close, on random circuit trees and EVSEs under every policy: measured draws, stale
stations, fallbacks, deadlines, priorities, ties (many EVSEs alike) and tight limits included.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

import chargegrid.energy.allocation.allocator as allocator_module
from chargegrid.energy.allocation import (
    PHASES,
    Evse,
    EvseKey,
    Node,
    PhaseCurrents,
    PolicyName,
    SitePolicy,
    StaleReason,
    Topology,
    allocate,
    filling,
    reference,
)
from tests.unit.energy.allocation_builders import T0


@st.composite
def sites(draw: Any) -> tuple[Topology, list[Evse]]:
    limit = st.sampled_from([0.0, 6.0, 16.0, 40.0, 63.0, 100.0, 250.0, 1000.0])
    nodes = [Node("grid", None, PhaseCurrents(draw(limit), draw(limit), draw(limit)))]
    for k in range(draw(st.integers(0, 5))):
        parent = draw(st.sampled_from([n.id for n in nodes]))
        nodes.append(Node(f"c{k}", parent, PhaseCurrents(draw(limit), draw(limit), draw(limit))))
    node_ids = [n.id for n in nodes]
    evses: list[Evse] = []
    # Few distinct values, so that many EVSEs start, stop and fill up at the same level.
    for k in range(draw(st.integers(0, 40))):
        phases = draw(st.sampled_from([1, 3]))
        first = draw(st.integers(0, 2))
        rotation = (PHASES[first:] + PHASES[:first])[:phases]
        max_a = float(draw(st.sampled_from([10, 16, 32, 32])))
        fallback = draw(st.sampled_from([None, None, 0.0, 6.0, 8.0]))
        measured = draw(st.sampled_from([None, None, 0.0, 2.0, 9.5]))
        departure = draw(st.sampled_from([None, 30, 120, -5]))
        evses.append(
            Evse(
                key=EvseKey(f"cs{k}", 1),
                node_id=draw(st.sampled_from(node_ids)),
                max_current_a=max_a,
                min_current_a=float(draw(st.sampled_from([0, 6, 6, 8]))),
                arrived_at=T0 + timedelta(minutes=draw(st.integers(0, 3))),
                phases=phases,
                rotation=rotation,
                ev_phases=draw(st.sampled_from([None, 1])),
                priority=draw(st.integers(0, 2)),
                weight=float(draw(st.sampled_from([1, 1, 2, 3]))),
                active=draw(st.booleans()) or draw(st.booleans()),
                measured_a=None if measured is None else (measured,) * phases,
                departure_at=None if departure is None else T0 + timedelta(minutes=departure),
                energy_needed_wh=draw(st.sampled_from([None, 0.0, 5_000.0, 40_000.0])),
                offline_fallback_a=fallback,
                accepted_a=draw(st.sampled_from([None, 6.0, 16.0, max_a])),
                pending_a=draw(st.sampled_from([None, None, 10.0])),
                stale=draw(st.sampled_from([None, None, None, *StaleReason])),
            )
        )
    return Topology("site", tuple(nodes)), evses


@settings(max_examples=300, deadline=None)
@given(sites(), st.sampled_from(list(PolicyName)))
def test_fast_fill_allocates_exactly_what_the_reference_does(
    site: tuple[Topology, list[Evse]], policy_name: PolicyName
) -> None:
    topology, evses = site
    policy = SitePolicy(name=policy_name)
    fast = allocate(topology, evses, policy, T0)
    with mock.patch.object(allocator_module, "fill", reference.fill):
        expected = allocate(topology, evses, policy, T0)
    assert fast == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 3.0, 6.0, 10.0, 25.0]), min_size=1, max_size=6),
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True),
            st.sampled_from([0.0, 1.0, 6.0]),
            st.sampled_from([0.5, 6.0, 7.3, 16.0]),
            st.sampled_from([1.0, 2.0, 0.37]),
        ),
        max_size=25,
    ),
)
def test_fast_fill_matches_the_reference_value_for_value(
    room: list[float], rows: list[tuple[list[int], float, float, float]]
) -> None:
    """The fill alone, on raw constraints (any EVSE on any set of them), including why each
    one stopped: the allocator reports the full node from that."""
    n_cons = len(room)
    constraints = [tuple(c % n_cons for c in dict.fromkeys(cons)) for cons, _, _, _ in rows]
    values = [start for _, start, _, _ in rows]
    rising = [i for i, (_, start, cap, _) in enumerate(rows) if i % 5 != 4]
    caps = [max(rows[i][1], rows[i][2]) for i in rising]
    weights = [rows[i][3] for i in rising]
    fast = filling.FillState(list(values), list(constraints), list(room))
    slow = filling.FillState(list(values), list(constraints), list(room))
    fast_why = filling.fill(fast, rising, caps, weights)
    slow_why = reference.fill(slow, rising, caps, weights)
    assert fast.values == slow.values
    assert fast_why == slow_why
    # And it did fill: every rising EVSE is either at its cap or stopped by a full constraint.
    assert set(fast_why) == set(rising)
