"""The controller's plan: the allocation planner's steps, with retries of stale stations
kept apart so they never hold back raises to the other EVSEs.

The planner offers a reachable stale EVSE a step to what it is counted at anyway, so that a
confirmation makes it trusted again. That step is filed as a lowering, and a lowering holds
back every raise until it is answered: a station that keeps rejecting would starve the site.
But such a retry changes no exposure: pending at most its counted draw, it leaves the EVSE
counted as before whether it is accepted (lower or equal), rejected (the old limit) or
unanswered (the higher of old and sent, which is the old counted draw). So raises are planned
as if the retry were not sent, with the stale EVSE still counted where it is held; a retry
that would raise what it is counted at stays an ordinary step of the plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from chargegrid.energy.allocation import (
    Allocation,
    Evse,
    LimitStep,
    Topology,
    TransitionPlan,
    counted_draw_a,
    plan_transition,
)

# As the planner's own tolerance: float sums of one-decimal currents drift by ~1e-12.
_TOLERANCE_A = 1e-6


@dataclass(frozen=True, slots=True)
class SitePlan:
    """`plan` for the trusted EVSEs (and stale ones whose step is not neutral); `retries`:
    neutral steps to stale EVSEs, safe to send alongside any of the plan's steps."""

    plan: TransitionPlan
    retries: tuple[LimitStep, ...]

    @property
    def steps(self) -> tuple[LimitStep, ...]:
        return self.plan.steps + self.retries


def plan_site(topology: Topology, current: Sequence[Evse], target: Allocation) -> SitePlan:
    """The next steps towards `target`, retries of stale EVSEs apart (see the module)."""
    plan = plan_transition(topology, current, target)
    by_key = {evse.key: evse for evse in current}
    retries = tuple(step for step in plan.lower if _is_neutral_retry(by_key[step.key], step))
    if not retries:
        return SitePlan(plan, ())
    retried = {step.key for step in retries}
    # Left out of the target, a stale EVSE gets no step but is still counted by the planner
    # at its exposure (it stays in `current`).
    others = dataclasses.replace(
        target, evses={k: v for k, v in target.evses.items() if k not in retried}
    )
    return SitePlan(plan_transition(topology, current, others), retries)


def _is_neutral_retry(evse: Evse, step: LimitStep) -> bool:
    return evse.stale is not None and step.limit_a <= counted_draw_a(evse) + _TOLERANCE_A
