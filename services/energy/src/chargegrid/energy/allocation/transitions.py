"""The transition planner: from the limits stations obey now to an allocation, safely.

Lower first: every step that does not raise what an EVSE may draw goes out at once. Raise
after: only when no lowering is still unconfirmed, and each raise only if, counting every
EVSE at the most it may draw (unconfirmed lowerings at their old limit, stale EVSEs at their
fallback or maximum) and every other EVSE at least at its fallback, every node on every phase
stays within its limit. So a raise can never overload, even if a lowered station never
complied, and any EVSE with a fallback may go stale after it without overloading either.
The planner is stateless: the service calls it again after every answer or timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from chargegrid.energy.allocation.model import (
    PHASE_INDEX,
    Allocation,
    Evse,
    EvseKey,
    StaleReason,
    Topology,
)
from chargegrid.energy.allocation.safety import (
    TOLERANCE_A,
    charging_phases,
    counted_draw_a,
    exposure_a,
    exposure_load,
)


class Direction(StrEnum):
    LOWER = "lower"
    RAISE = "raise"


@dataclass(frozen=True, slots=True)
class LimitStep:
    """Send `limit_a` to this EVSE (previous_a: what it had accepted, None if nothing)."""

    key: EvseKey
    limit_a: float
    direction: Direction
    previous_a: float | None


@dataclass(frozen=True, slots=True)
class TransitionPlan:
    """What to send now: `lower` at once; `raise_now` only once nothing lowered is still
    unconfirmed and each raise fits the worst case; `raise_later` waits for a later plan."""

    lower: tuple[LimitStep, ...]
    raise_now: tuple[LimitStep, ...]
    raise_later: tuple[LimitStep, ...]

    @property
    def steps(self) -> tuple[LimitStep, ...]:
        return self.lower + self.raise_now

    @property
    def done(self) -> bool:
        return not (self.lower or self.raise_now or self.raise_later)


def plan_transition(
    topology: Topology, current: Sequence[Evse], target: Allocation
) -> TransitionPlan:
    """The next steps towards `target` given the safety state of `current`. Stateless: call
    again after every confirmation, rejection or timeout.

    An EVSE with a limit still unanswered gets no step (one outstanding limit per station);
    one whose unanswered limit is a lowering holds back every raise. A stale EVSE that is
    reachable (rejected or silent, not offline) and has nothing pending gets a lowering step
    to what it is counted at anyway, so a confirmation can make it trusted again without
    raising anything."""
    lower: list[LimitStep] = []
    raises: list[tuple[Evse, LimitStep]] = []
    lowering_unconfirmed = False
    for evse in current:
        wanted = target.evses.get(evse.key)
        if wanted is None:
            continue
        limit = wanted.limit_a
        if evse.stale is not None:
            if evse.stale is not StaleReason.OFFLINE and evse.pending_a is None:
                limit = max(limit, counted_draw_a(evse))
                lower.append(LimitStep(evse.key, limit, Direction.LOWER, evse.accepted_a))
            continue
        if evse.pending_a is not None:
            # One outstanding limit per station: the next one waits for this answer.
            if evse.accepted_a is None or evse.pending_a < evse.accepted_a:
                lowering_unconfirmed = True
            continue
        if evse.accepted_a is not None and _same(evse.accepted_a, limit):
            continue
        step_down = evse.accepted_a is None or limit <= evse.accepted_a + TOLERANCE_A
        if step_down:
            lower.append(LimitStep(evse.key, limit, Direction.LOWER, evse.accepted_a))
        else:
            raises.append((evse, LimitStep(evse.key, limit, Direction.RAISE, evse.accepted_a)))
    raises.sort(key=lambda pair: (-pair[0].priority, pair[0].arrived_at, pair[0].key))
    if lower or lowering_unconfirmed:
        return TransitionPlan(tuple(lower), (), tuple(step for _, step in raises))
    now, later = _fitting_raises(topology, current, raises)
    return TransitionPlan((), now, later)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE_A


def _fitting_raises(
    topology: Topology, current: Sequence[Evse], raises: list[tuple[Evse, LimitStep]]
) -> tuple[tuple[LimitStep, ...], tuple[LimitStep, ...]]:
    held = exposure_load(topology, current)
    room = {
        node.id: [
            limit - load
            for limit, load in zip(node.effective_limit_a(), held[node.id], strict=True)
        ]
        for node in topology.nodes
    }
    now: list[LimitStep] = []
    later: list[LimitStep] = []
    for evse, step in raises:
        # Raises are only planned for trusted EVSEs with nothing pending, so sending one
        # makes its exposure the higher of the old exposure and the new limit.
        before = exposure_a(evse)
        extra = max(before, min(step.limit_a, evse.max_current_a)) - before
        if extra <= 0 or _fits(room, topology, evse, extra):
            _take(room, topology, evse, extra)
            now.append(step)
        else:
            later.append(step)
    return tuple(now), tuple(later)


def _take(room: dict[str, list[float]], topology: Topology, evse: Evse, amps: float) -> None:
    phases = [PHASE_INDEX[p] for p in charging_phases(evse)]
    for node_id in topology.paths[evse.node_id]:
        row = room[node_id]
        for i in phases:
            row[i] -= amps


def _fits(room: dict[str, list[float]], topology: Topology, evse: Evse, amps: float) -> bool:
    phases = [PHASE_INDEX[p] for p in charging_phases(evse)]
    return all(
        room[node_id][i] >= amps - TOLERANCE_A
        for node_id in topology.paths[evse.node_id]
        for i in phases
    )
