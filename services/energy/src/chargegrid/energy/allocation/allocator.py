"""The allocator: a target limit per EVSE under every node's limit on every phase.

One run, for one site: (1) what cannot be moved is reserved first: stale EVSEs at what they
may draw, every other EVSE at its confirmed fallback (so that any of them may go stale later
without overloading); (2) minimums are admitted in priority then arrival order, whoever does
not fit is paused at 0 A; (3) the rest is water-filled by the site's policy, each EVSE capped
at its maximum, or just above its measured draw when it takes clearly less than it is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from chargegrid.energy.allocation.filling import AT_CAP, FillState, Frozen, fill
from chargegrid.energy.allocation.model import (
    PHASE_INDEX,
    PHASES,
    Allocation,
    Evse,
    EvseAllocation,
    EvseError,
    EvseKey,
    NodeLoad,
    Phase,
    PhaseCurrents,
    Reason,
    SitePolicy,
    Topology,
)
from chargegrid.energy.allocation.policies import rounds
from chargegrid.energy.allocation.safety import (
    charging_phases,
    counted_draw_a,
    fallback_a,
    phase_loads,
)

_EPS = 1e-9


def allocate(
    topology: Topology, evses: Sequence[Evse], policy: SitePolicy, now: datetime
) -> Allocation:
    """Compute the target limit of every EVSE of one site (see docs/energy-management.md)."""
    _check(topology, evses)
    node_ids = [node.id for node in topology.nodes]
    node_index = {node_id: k for k, node_id in enumerate(node_ids)}
    room = [0.0] * (3 * len(node_ids))
    for node in topology.nodes:
        for p, amps in enumerate(node.effective_limit_a()):
            room[3 * node_index[node.id] + p] = amps
    # Per node, the index of its first constraint and its ancestors': one lookup per EVSE.
    bases = {
        node_id: tuple(3 * node_index[n] for n in path) for node_id, path in topology.paths.items()
    }
    constraints = _constraints(bases, evses)

    results: dict[int, tuple[float, Reason, str | None]] = {}
    candidates: list[int] = []
    floors = [_floor(evse) for evse in evses]
    for i, evse in enumerate(evses):
        if evse.stale is not None:
            held = counted_draw_a(evse)
            _reserve_fixed(room, bases[evse.node_id], evse, held)
            results[i] = (held, Reason.STALE, None)
            continue
        floor = floors[i]
        _reserve_fixed(room, bases[evse.node_id], evse, floor)
        if not evse.active:
            idle = floor if floor >= evse.min_current_a else 0.0
            results[i] = (idle, Reason.IDLE, None)
        else:
            candidates.append(i)

    state = FillState(values=[0.0] * len(evses), constraints=constraints, room=room)
    admitted: list[int] = []
    starts: dict[int, float] = {}
    for i in sorted(candidates, key=lambda k: _admission_order(evses[k])):
        evse = evses[i]
        floor = floors[i]
        start = max(evse.min_current_a, floor)
        extra = start - floor
        short = [c for c in constraints[i] if room[c] < extra - _EPS]
        if short:
            results[i] = (0.0, Reason.PAUSED, node_ids[short[0] // 3])
            continue
        _reserve(room, constraints[i], extra)
        admitted.append(i)
        starts[i] = start
    # From here on an admitted EVSE's reservation is carried by its value, not by the room.
    for i in admitted:
        _reserve(room, constraints[i], -starts[i])
        state.values[i] = starts[i]

    caps = {i: _cap(evses[i], policy, starts[i]) for i in admitted}
    why: dict[int, Frozen] = {}
    for rising, round_caps, weights in rounds(policy, evses, admitted, caps, state.values, now):
        why.update(fill(state, rising, round_caps, weights))

    step = policy.resolution_a
    for i in admitted:
        evse = evses[i]
        value = state.values[i]
        limit = max(starts[i], math.floor(value / step + 1e-6) * step)
        limit = min(round(limit, 6), evse.max_current_a)
        stop = why.get(i, AT_CAP)
        if not stop.at_cap:
            results[i] = (limit, Reason.CAPPED_BY_NODE, node_ids[stop.constraint // 3])
        elif caps[i][0] < evse.max_current_a - _EPS:
            results[i] = (limit, Reason.LIMITED_BY_DRAW, None)
        else:
            results[i] = (limit, Reason.AT_MAX, None)
    return _result(topology, evses, floors, policy, now, results)


def _check(topology: Topology, evses: Sequence[Evse]) -> None:
    seen: set[EvseKey] = set()
    for evse in evses:
        if evse.key in seen:
            raise EvseError(f"EVSE {evse.key.station_id}/{evse.key.evse_id} is listed twice")
        seen.add(evse.key)
        if evse.node_id not in topology:
            raise EvseError(
                f"EVSE {evse.key.station_id}/{evse.key.evse_id} sits on unknown node "
                f"{evse.node_id!r} of site {topology.site_id!r}"
            )


def _constraints(bases: dict[str, tuple[int, ...]], evses: Sequence[Evse]) -> list[tuple[int, ...]]:
    """The constraint ids each EVSE loads: its charging phases on every node of its path.
    Many EVSEs share a node and wiring, so each distinct pair is built once."""
    known: dict[tuple[str, tuple[Phase, ...]], tuple[int, ...]] = {}
    out: list[tuple[int, ...]] = []
    for evse in evses:
        phases = charging_phases(evse)
        cons = known.get((evse.node_id, phases))
        if cons is None:
            indexes = [PHASE_INDEX[p] for p in phases]
            cons = tuple(b + p for b in bases[evse.node_id] for p in indexes)
            known[(evse.node_id, phases)] = cons
        out.append(cons)
    return out


def _reserve_fixed(room: list[float], bases: tuple[int, ...], evse: Evse, amps: float) -> None:
    """Take `amps` on the EVSE's charging phases (and its fallback on the station's others)."""
    loads = [(p, a) for p, a in phase_loads(evse, amps) if a]
    for base in bases:
        for p, a in loads:
            room[base + p] -= a


def _reserve(room: list[float], constraints: tuple[int, ...], amps: float) -> None:
    if amps:
        for c in constraints:
            room[c] -= amps


def _floor(evse: Evse) -> float:
    """What stays reserved for an EVSE whatever it is given: its confirmed fallback."""
    return fallback_a(evse) or 0.0


def _admission_order(evse: Evse) -> tuple[int, datetime, str, int]:
    return (-evse.priority, evse.arrived_at, evse.key.station_id, evse.key.evse_id)


def _cap(evse: Evse, policy: SitePolicy, start: float) -> tuple[float, bool]:
    """The most this EVSE should get, and whether that is below its max because of its draw."""
    if evse.measured_a is None:
        return (evse.max_current_a, False)
    loaded = evse.measured_a[: len(evse.grid_phases)]
    drawn = max(loaded) if loaded else 0.0
    allowance = evse.max_current_a if evse.accepted_a is None else evse.accepted_a
    if allowance - drawn <= policy.unused_threshold_a:
        return (evse.max_current_a, False)
    limited = min(evse.max_current_a, max(start, drawn + policy.ramp_margin_a))
    return (limited, limited < evse.max_current_a)


def _result(
    topology: Topology,
    evses: Sequence[Evse],
    floors: Sequence[float],
    policy: SitePolicy,
    now: datetime,
    results: dict[int, tuple[float, Reason, str | None]],
) -> Allocation:
    planned = {node.id: [0.0, 0.0, 0.0] for node in topology.nodes}
    paths = topology.paths
    per_evse: dict[EvseKey, EvseAllocation] = {}
    for i, evse in enumerate(evses):
        limit, reason, node_id = results[i]
        per_evse[evse.key] = EvseAllocation(evse.key, limit, reason, charging_phases(evse), node_id)
        load = limit if evse.stale is not None else max(limit, floors[i])
        loads = phase_loads(evse, load)
        for path_node in paths[evse.node_id]:
            row = planned[path_node]
            for p, amps in loads:
                row[p] += amps
    nodes: dict[str, NodeLoad] = {}
    for node in topology.nodes:
        limit_a = node.effective_limit_a()
        load_a = PhaseCurrents.from_sequence(planned[node.id])
        headroom = PhaseCurrents.from_sequence(limit_a[p] - load_a[p] for p in PHASES)
        nodes[node.id] = NodeLoad(node.id, limit_a, load_a, headroom)
    return Allocation(topology.site_id, policy.name, now, per_evse, nodes)
