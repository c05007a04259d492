"""The transition planner: from the limits stations obey now to an allocation, safely."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from chargegrid.energy.allocation.model import Allocation, Evse, EvseKey, Topology


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
    again after every confirmation, rejection or timeout."""
    raise NotImplementedError
