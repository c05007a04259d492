"""What each EVSE may draw in the worst case, and the EVSE safety-state transitions.

The allocator never trusts a target it has merely sent: an EVSE counts at the highest limit
it may be obeying (confirmed or pending), a stale one also at its fallback (or its maximum if
no fallback is known), and one with nothing confirmed at its maximum. A 1-phase EV on a
3-phase station counts that on its own phase only, and the station's other phases at the
fallback (a new EV plugged in starts under the default profile); without a known fallback
the station counts on all its phases. Summing per node and phase gives the worst case.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

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


def fallback_a(evse: Evse) -> float | None:
    """The confirmed fallback limit, capped at the EVSE's max (None if unknown)."""
    if evse.offline_fallback_a is None:
        return None
    return min(evse.offline_fallback_a, evse.max_current_a)


def charging_phases(evse: Evse) -> tuple[Phase, ...]:
    """The grid phases an EVSE's limit is counted on: its EV's, if a fallback covers the
    station's other phases, else all the station's."""
    return evse.grid_phases if evse.offline_fallback_a is not None else evse.rotation


def counted_draw_a(evse: Evse) -> float:
    """What this EVSE may draw on each of its charging phases, given its safety state."""
    cap = evse.max_current_a
    draw = cap if evse.accepted_a is None else min(evse.accepted_a, cap)
    if evse.pending_a is not None:
        draw = max(draw, min(evse.pending_a, cap))
    if evse.stale is not None:
        fallback = fallback_a(evse)
        draw = max(draw, cap if fallback is None else fallback)
    return draw


def exposure_a(evse: Evse) -> float:
    """What this EVSE may draw now or once it falls back to its fallback profile (going
    stale): what the planner holds it at. Without a fallback, what it may draw now; if such
    an EVSE goes stale it counts at its maximum, which no plan can cover in advance."""
    fallback = fallback_a(evse)
    draw = counted_draw_a(evse)
    return draw if fallback is None else max(draw, fallback)


def phase_loads(evse: Evse, amps: float) -> list[tuple[int, float]]:
    """(phase index, amps) for an EVSE counted at `amps` on its charging phases and at its
    fallback on the station's other phases."""
    charging = charging_phases(evse)
    loads = [(PHASE_INDEX[p], amps) for p in charging]
    fallback = fallback_a(evse)
    if fallback and len(charging) < len(evse.rotation):
        loads += [(PHASE_INDEX[p], fallback) for p in evse.rotation if p not in charging]
    return loads


def worst_case_load(topology: Topology, evses: Iterable[Evse]) -> dict[str, PhaseCurrents]:
    """Per node and grid phase, the sum of what every EVSE below it may draw."""
    return _sum_load(topology, ((e, counted_draw_a(e)) for e in evses))


def exposure_load(topology: Topology, evses: Iterable[Evse]) -> dict[str, PhaseCurrents]:
    """Per node and phase, the load if any EVSEs went stale and fell back (see exposure_a)."""
    return _sum_load(topology, ((e, exposure_a(e)) for e in evses))


def _sum_load(topology: Topology, draws: Iterable[tuple[Evse, float]]) -> dict[str, PhaseCurrents]:
    sums = {node.id: [0.0, 0.0, 0.0] for node in topology.nodes}
    for evse, amps in draws:
        loads = [(i, a) for i, a in phase_loads(evse, amps) if a > 0]
        if not loads:
            continue
        for node_id in topology.path_to_root(evse.node_id):
            row = sums[node_id]
            for i, a in loads:
                row[i] += a
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
    """The EVSE after a rejection, a timeout or a disconnect.

    Rejected: the station keeps its old limit, the pending one is dropped. No answer: the call
    is over but the station may have applied it, so the higher of the confirmed and the
    unanswered limit becomes what it is held to (`accepted_a`; None stays None = its max).
    Offline: the pending limit is kept until the station is back (see `mark_reconnected`)."""
    if reason is StaleReason.REJECTED:
        return dataclasses.replace(evse, stale=reason, pending_a=None)
    if reason is StaleReason.NO_ANSWER:
        held = evse.accepted_a
        if held is not None and evse.pending_a is not None:
            held = max(held, evse.pending_a)
        return dataclasses.replace(evse, stale=reason, accepted_a=held, pending_a=None)
    return dataclasses.replace(evse, stale=reason)


def mark_session_started(evse: Evse, at: datetime) -> Evse:
    """The EVSE once an EV is plugged in and wants power (its phases not yet measured)."""
    return dataclasses.replace(evse, active=True, arrived_at=at, ev_phases=None, measured_a=None)


def mark_session_ended(evse: Evse) -> Evse:
    """The EVSE once its EV has left. Its transaction profile ended with the transaction, so
    with a confirmed fallback (default profile) that is what it obeys again; a limit still
    unanswered belonged to that transaction and can no longer apply."""
    ended = dataclasses.replace(
        evse,
        active=False,
        ev_phases=None,
        measured_a=None,
        departure_at=None,
        energy_needed_wh=None,
    )
    fallback = fallback_a(evse)
    if evse.stale is not None:
        # Unreachable: nothing is known for sure, so it keeps being counted as before.
        return dataclasses.replace(ended, ev_phases=evse.ev_phases)
    if fallback is None:
        return ended
    return dataclasses.replace(ended, accepted_a=fallback, pending_a=None)


def mark_reconnected(evse: Evse) -> Evse:
    """The EVSE of a station that is connected again: still untrusted until it confirms a
    limit, but reachable, so the planner will offer it one."""
    return mark_stale(evse, StaleReason.NO_ANSWER)
