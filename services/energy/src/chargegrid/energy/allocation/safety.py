"""What each EVSE may draw in the worst case, and the EVSE safety-state transitions.

The allocator never trusts a target it has merely sent: an EVSE counts at the highest limit
it may be obeying (confirmed or pending), a stale one also at its fallback (or its maximum if
no fallback is known), and one with nothing confirmed at its maximum. Summing those per node
and phase gives the worst case the transition planner keeps under every limit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence

from chargegrid.energy.allocation.model import (
    PHASE_INDEX,
    PHASES,
    Evse,
    EvseKey,
    Phase,
    PhaseCurrents,
    StaleReason,
    Topology,
)

# Float sums of one-decimal currents drift by ~1e-12; a limit is "exceeded" beyond this.
TOLERANCE_A = 1e-6


def counted_draw_a(evse: Evse) -> float:
    """What this EVSE may draw on each grid phase it loads, given its safety state."""
    cap = evse.max_current_a
    draw = cap if evse.accepted_a is None else min(evse.accepted_a, cap)
    if evse.pending_a is not None:
        draw = max(draw, min(evse.pending_a, cap))
    if evse.stale is not None:
        fallback = cap if evse.offline_fallback_a is None else min(evse.offline_fallback_a, cap)
        draw = max(draw, fallback)
    return draw


def exposure_a(evse: Evse) -> float:
    """What this EVSE would be counted at if it went stale right now (its exposure)."""
    if evse.stale is not None:
        return counted_draw_a(evse)
    return counted_draw_a(dataclasses.replace(evse, stale=StaleReason.NO_ANSWER))


def worst_case_load(topology: Topology, evses: Iterable[Evse]) -> dict[str, PhaseCurrents]:
    """Per node and grid phase, the sum of what every EVSE below it may draw."""
    return _sum_load(topology, ((e, counted_draw_a(e)) for e in evses))


def exposure_load(topology: Topology, evses: Iterable[Evse]) -> dict[str, PhaseCurrents]:
    """Per node and phase, the load if every EVSE went stale at once (with its fallback)."""
    return _sum_load(topology, ((e, exposure_a(e)) for e in evses))


def _sum_load(topology: Topology, draws: Iterable[tuple[Evse, float]]) -> dict[str, PhaseCurrents]:
    sums = {node.id: [0.0, 0.0, 0.0] for node in topology.nodes}
    for evse, amps in draws:
        if amps <= 0:
            continue
        indexes = [PHASE_INDEX[p] for p in evse.grid_phases]
        for node_id in topology.path_to_root(evse.node_id):
            row = sums[node_id]
            for i in indexes:
                row[i] += amps
    return {node_id: PhaseCurrents.from_sequence(row) for node_id, row in sums.items()}


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """One node and phase whose load exceeds its limit."""

    node_id: str
    phase: Phase
    load_a: float
    limit_a: float


def violations(topology: Topology, load: Mapping[str, PhaseCurrents]) -> list[Violation]:
    """Every node and phase where `load` exceeds the node's effective limit."""
    found: list[Violation] = []
    for node in topology.nodes:
        limit = node.effective_limit_a()
        for phase in PHASES:
            amps = load[node.id][phase]
            if amps > limit[phase] + TOLERANCE_A:
                found.append(Violation(node.id, phase, amps, limit[phase]))
    return found


def safe_fallback_limits(
    topology: Topology, evses: Sequence[Evse], resolution_a: float = 0.1
) -> dict[EvseKey, float]:
    """A fallback (offline/default profile) limit per EVSE such that all of them together fit
    every node on every phase: each node's limit split evenly over the EVSEs wired to that
    phase below it, the smallest share on the EVSE's path; 0 where that is below the EVSE's
    minimum (it then waits offline rather than overloading). Based on the station's wiring,
    not the present EV, since a fallback also applies to the next EV."""
    counts = {node.id: [0, 0, 0] for node in topology.nodes}
    for evse in evses:
        for node_id in topology.path_to_root(evse.node_id):
            for phase in evse.rotation:
                counts[node_id][PHASE_INDEX[phase]] += 1
    limits = {node.id: node.effective_limit_a().as_tuple() for node in topology.nodes}
    fallbacks: dict[EvseKey, float] = {}
    for evse in evses:
        share = evse.max_current_a
        for node_id in topology.path_to_root(evse.node_id):
            for phase in evse.rotation:
                i = PHASE_INDEX[phase]
                share = min(share, limits[node_id][i] / counts[node_id][i])
        share = math.floor(share / resolution_a + 1e-9) * resolution_a
        fallbacks[evse.key] = round(share, 6) if share >= evse.min_current_a else 0.0
    return fallbacks


def mark_sent(evse: Evse, limit_a: float) -> Evse:
    """The EVSE after a profile with `limit_a` was sent and not yet answered. Sent while
    another is still unanswered, the higher of the two stays pending: either may be in force."""
    pending = limit_a if evse.pending_a is None else max(evse.pending_a, limit_a)
    return dataclasses.replace(evse, pending_a=pending)


def mark_accepted(evse: Evse, limit_a: float | None = None) -> Evse:
    """The EVSE after the station confirmed `limit_a` (default: the pending limit)."""
    confirmed = evse.pending_a if limit_a is None else limit_a
    if confirmed is None:
        raise ValueError(f"EVSE {evse.key} has no pending limit to confirm")
    return dataclasses.replace(evse, accepted_a=confirmed, pending_a=None, stale=None)


def mark_stale(evse: Evse, reason: StaleReason) -> Evse:
    """The EVSE after a rejection, a timeout or a disconnect. A rejected limit is dropped (the
    station said it keeps its old one); after no answer or a disconnect the pending limit is
    kept, since the station may have applied it before it fell silent."""
    pending = None if reason is StaleReason.REJECTED else evse.pending_a
    return dataclasses.replace(evse, stale=reason, pending_a=pending)
