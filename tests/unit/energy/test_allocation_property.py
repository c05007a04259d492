"""The safety property of issue 15, driven by hypothesis.

A simulated energy service runs the allocator and the transition planner against a site whose
stations answer profiles at random: accepted, rejected, no answer, or not at all because they
went offline. Between answers EVs arrive and leave, draw less than allowed, the operator moves
limits and demand-response events lower and restore the grid limit. After every single event,
external or the service's own, the test checks that the worst case (every EVSE at the most it
may draw, stale ones at their fallback) and even the exposure (every EVSE also at least at its
fallback, in case it goes stale next) fit every node on every phase, and that no EV is given,
sent or held at a limit between 0 and its minimum. A lower limit is only "in force" once the
worst case fits it, which is what the service reports; at the end, with every station back and
answering, it must be in force and every EVSE must hold exactly its allocation.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargegrid.energy.allocation import (
    PHASES,
    Allocation,
    Evse,
    EvseKey,
    Node,
    PhaseCurrents,
    PolicyName,
    SitePolicy,
    StaleReason,
    Topology,
    allocate,
    counted_draw_a,
    exposure_load,
    mark_accepted,
    mark_reconnected,
    mark_sent,
    mark_session_ended,
    mark_session_started,
    mark_stale,
    safe_fallback_limits,
    violations,
    worst_case_load,
)
from chargegrid.energy.planning import plan_site
from tests.unit.energy.allocation_builders import T0

TOL = 1e-6
ROTATIONS_3 = [(PHASES[0], PHASES[1], PHASES[2]), (PHASES[1], PHASES[2], PHASES[0])]
ROTATIONS_3 += [(PHASES[2], PHASES[0], PHASES[1])]


@st.composite
def sites(draw: Any) -> tuple[Topology, float, list[Evse], dict[EvseKey, int]]:
    """A circuit tree, the fraction of its limits that is the lowest any event may set, and a
    pool of EVSEs with the fallback a service would give them for that lowest limit."""
    nodes = [Node("grid", None, PhaseCurrents.uniform(draw(st.integers(16, 250))))]
    for k in range(draw(st.integers(0, 3))):
        parent = draw(st.sampled_from([n.id for n in nodes]))
        nodes.append(Node(f"c{k}", parent, PhaseCurrents.uniform(draw(st.integers(10, 120)))))
    topology = Topology("site", tuple(nodes))
    floor = draw(st.sampled_from([0.3, 0.5, 0.8, 1.0]))
    pool: list[Evse] = []
    ev_phases: dict[EvseKey, int] = {}
    for k in range(draw(st.integers(1, 10))):
        phases = draw(st.sampled_from([1, 3]))
        rotation = (
            draw(st.sampled_from(ROTATIONS_3)) if phases == 3 else (draw(st.sampled_from(PHASES)),)
        )
        key = EvseKey(f"cs{k}", 1)
        pool.append(
            Evse(
                key=key,
                node_id=draw(st.sampled_from([n.id for n in nodes])),
                max_current_a=float(draw(st.sampled_from([10, 16, 20, 32]))),
                min_current_a=float(draw(st.sampled_from([6, 6, 8]))),
                arrived_at=T0,
                phases=phases,
                rotation=rotation,
                priority=draw(st.integers(0, 2)),
                weight=float(draw(st.integers(1, 3))),
                active=False,
            )
        )
        ev_phases[key] = draw(st.sampled_from([1, phases]))
    fallbacks = safe_fallback_limits(_scaled(topology, floor), pool)
    # At boot every station confirmed its fallback (default) profile.
    pool = [
        dataclasses.replace(e, offline_fallback_a=fallbacks[e.key], accepted_a=fallbacks[e.key])
        for e in pool
    ]
    return topology, floor, pool, ev_phases


def _scaled(topology: Topology, factor: float) -> Topology:
    return Topology(
        topology.site_id,
        tuple(
            dataclasses.replace(n, limit_a=PhaseCurrents.uniform(n.limit_a.l1 * factor))
            for n in topology.nodes
        ),
    )


def _min_of(a: Topology, b: Topology) -> Topology:
    return Topology(
        a.site_id,
        tuple(
            dataclasses.replace(
                n,
                limit_a=PhaseCurrents.from_sequence(
                    min(x, y) for x, y in zip(n.limit_a, b.node(n.id).limit_a, strict=True)
                ),
            )
            for n in a.nodes
        ),
    )


OPS = st.one_of(
    st.tuples(st.just("arrive"), st.integers(0, 99), st.integers(0, 3)),
    st.tuples(st.just("depart"), st.integers(0, 99)),
    st.tuples(st.just("draw"), st.integers(0, 99), st.sampled_from([0.0, 0.3, 0.7, 1.0])),
    st.tuples(st.just("answer"), st.integers(0, 99), st.sampled_from(["ok", "ok", "no", "none"])),
    st.tuples(st.just("answer_all"), st.just(0)),
    st.tuples(st.just("disconnect"), st.integers(0, 99)),
    st.tuples(st.just("reconnect"), st.integers(0, 99)),
    st.tuples(st.just("limit"), st.integers(0, 99), st.sampled_from([0.0, 0.4, 0.7, 1.0, 1.5])),
    st.tuples(st.just("dr_start"), st.sampled_from([0.0, 0.5, 0.8])),
    st.tuples(st.just("dr_end"), st.just(0)),
    st.tuples(st.just("tick"), st.integers(1, 90)),
)


@dataclasses.dataclass
class Service:
    """The decisions a real energy service takes, in memory: limits, allocation, sending."""

    base: Topology
    floor: float
    evses: dict[EvseKey, Evse]
    ev_phases: dict[EvseKey, int]
    policy: SitePolicy
    operator: dict[str, float]
    dr_factor: float | None = None
    now: Any = T0
    in_force: Topology | None = None
    last: Allocation | None = None

    def requested(self) -> Topology:
        nodes = []
        for n in self.base.nodes:
            amps = self.operator[n.id]
            if n.parent_id is None and self.dr_factor is not None:
                floor = n.limit_a.l1 * self.floor
                amps = min(amps, floor + (amps - floor) * self.dr_factor)
            nodes.append(dataclasses.replace(n, limit_a=PhaseCurrents.uniform(amps)))
        return Topology(self.base.site_id, tuple(nodes))

    def react(self) -> None:
        assert self.in_force is not None
        planning = _min_of(self.in_force, self.requested())
        evses = list(self.evses.values())
        self.last = allocate(planning, evses, self.policy, self.now)
        for evse in evses:
            target = self.last.evses[evse.key]
            if evse.active and evse.stale is None:
                _check_limit(evse, target.limit_a, "allocated")
        # The controller's plan: stale stations' retries go out beside the other steps.
        plan = plan_site(planning, evses, self.last)
        for step in plan.steps:
            _check_limit(self.evses[step.key], step.limit_a, "sent")
            self.evses[step.key] = mark_sent(self.evses[step.key], step.limit_a)
            self.check()
        self.check()

    def check(self) -> None:
        assert self.in_force is not None
        evses = list(self.evses.values())
        assert violations(self.in_force, worst_case_load(self.in_force, evses)) == []
        assert violations(self.in_force, exposure_load(self.in_force, evses)) == []
        for evse in evses:
            if evse.active:
                for held in (evse.accepted_a, evse.pending_a, counted_draw_a(evse)):
                    if held is not None:
                        _check_limit(evse, held, "held")
        requested = self.requested()
        if not violations(requested, exposure_load(requested, evses)):
            self.in_force = requested


def _check_limit(evse: Evse, limit: float, what: str) -> None:
    assert limit <= evse.max_current_a + TOL, f"{evse.key} {what} {limit} above its max"
    assert limit == 0 or limit >= evse.min_current_a - TOL, (
        f"{evse.key} {what} {limit} A, below its minimum {evse.min_current_a} A"
    )


def _apply(service: Service, op: tuple[Any, ...], pool: list[EvseKey]) -> None:
    kind = op[0]
    key = pool[op[1] % len(pool)] if kind not in ("dr_start", "dr_end", "tick", "limit") else None
    evse = service.evses[key] if key else None
    if kind == "arrive" and evse and not evse.active:
        started = mark_session_started(evse, service.now)
        if op[2]:
            started = dataclasses.replace(
                started,
                departure_at=service.now + timedelta(hours=op[2]),
                energy_needed_wh=op[2] * 9000.0,
            )
        service.evses[evse.key] = started
    elif kind == "depart" and evse and evse.active:
        service.evses[evse.key] = mark_session_ended(evse)
    elif kind == "draw" and evse and evse.active:
        n = service.ev_phases[evse.key]
        amps = min(counted_draw_a(evse), evse.max_current_a) * op[2]
        measured = tuple(amps if i < n else 0.0 for i in range(evse.phases))
        service.evses[evse.key] = dataclasses.replace(
            evse, measured_a=measured, ev_phases=n if evse.ev_phases is None else evse.ev_phases
        )
    elif kind == "answer" and evse and evse.pending_a is not None:
        if evse.stale is StaleReason.OFFLINE:
            return
        outcome = op[2]
        if outcome == "ok":
            service.evses[evse.key] = mark_accepted(evse)
        elif outcome == "no":
            service.evses[evse.key] = mark_stale(evse, StaleReason.REJECTED)
        else:
            service.evses[evse.key] = mark_stale(evse, StaleReason.NO_ANSWER)
    elif kind == "answer_all":
        for k, e in list(service.evses.items()):
            if e.pending_a is not None and e.stale is not StaleReason.OFFLINE:
                service.evses[k] = mark_accepted(e)
    elif kind == "disconnect" and evse and evse.stale is not StaleReason.OFFLINE:
        service.evses[evse.key] = mark_stale(evse, StaleReason.OFFLINE)
    elif kind == "reconnect" and evse and evse.stale is StaleReason.OFFLINE:
        service.evses[evse.key] = mark_reconnected(evse)
    elif kind == "limit":
        node = service.base.nodes[op[1] % len(service.base.nodes)]
        lowest = node.limit_a.l1 * service.floor
        service.operator[node.id] = lowest + (node.limit_a.l1 - lowest) * op[2]
    elif kind == "dr_start":
        service.dr_factor = op[1]
    elif kind == "dr_end":
        service.dr_factor = None
    elif kind == "tick":
        service.now += timedelta(minutes=op[1])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    site=sites(),
    policy=st.sampled_from(list(PolicyName)),
    ops=st.lists(OPS, min_size=1, max_size=60),
)
def test_worst_case_never_exceeds_a_limit_and_nobody_charges_below_minimum(
    site: tuple[Topology, float, list[Evse], dict[EvseKey, int]],
    policy: PolicyName,
    ops: list[tuple[Any, ...]],
) -> None:
    topology, floor, pool, ev_phases = site
    service = Service(
        base=topology,
        floor=floor,
        evses={e.key: e for e in pool},
        ev_phases=ev_phases,
        policy=SitePolicy(name=policy),
        operator={n.id: n.limit_a.l1 for n in topology.nodes},
        in_force=topology,
    )
    keys = [e.key for e in pool]
    service.check()
    for op in ops:
        _apply(service, op, keys)
        service.check()  # an external event alone never breaks the invariant
        service.react()

    # Every station back and answering: the plan must converge to the allocation.
    for key, evse in list(service.evses.items()):
        if evse.stale is StaleReason.OFFLINE:
            service.evses[key] = mark_reconnected(evse)
    for _ in range(20):
        service.react()
        if all(e.pending_a is None for e in service.evses.values()):
            break
        _apply(service, ("answer_all", 0), keys)
        service.check()
    assert service.last is not None
    assert service.in_force == service.requested()
    for evse in service.evses.values():
        assert evse.stale is None
        assert evse.pending_a is None
        assert evse.accepted_a == service.last.limit_for(evse.key), evse.key
