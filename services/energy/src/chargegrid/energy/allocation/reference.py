"""The reference water-filling: the first, straightforward event-driven implementation,
kept unchanged as the specification of `filling.fill`.

`filling.fill` is the one the allocator runs: it computes the same values, bit for bit, with
fewer heap entries and allocations. This module exists so that a property test can check
exactly that on random sites (tests/unit/energy/test_allocation_fill_equivalence.py), and so
that a later optimisation has something obviously right to be compared with.

Every rising EVSE i follows t_i(level) = min(cap_i, max(start_i, weight_i * level)); the level
rises until an EVSE reaches its cap or a constraint (one node on one phase) is full; a full
constraint freezes every EVSE below it. Loads are tracked per constraint as base + slope x
(level - level_ref), so each event touches only the constraints of one EVSE.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from chargegrid.energy.allocation.filling import EPS as _EPS
from chargegrid.energy.allocation.filling import FillState, Frozen

_START, _CAP, _HIT = 0, 1, 2


def fill(
    state: FillState, rising: Sequence[int], caps: Sequence[float], weights: Sequence[float]
) -> dict[int, Frozen]:
    """Raise the EVSEs in `rising` (indexes into state) as far as the constraints allow,
    updating state.values in place; returns why each one stopped. Everything not rising is
    held at its value."""
    n_cons = len(state.room)
    base = list(state.room)  # becomes: room left at level_ref, counting every value
    for i, cons in enumerate(state.constraints):
        v = state.values[i]
        if v:
            for c in cons:
                base[c] -= v
    slope = [0.0] * n_cons
    ref = [0.0] * n_cons
    version = [0] * n_cons
    members: dict[int, list[int]] = {}
    heap: list[tuple[float, int, int, int]] = []
    rising_now: set[int] = set()
    waiting: set[int] = set()
    why: dict[int, Frozen] = {}
    weight = {i: weights[k] for k, i in enumerate(rising)}
    cap = {i: caps[k] for k, i in enumerate(rising)}
    for i in rising:
        v = state.values[i]
        if v >= cap[i] - _EPS:
            why[i] = Frozen(at_cap=True)
            continue
        for c in state.constraints[i]:
            members.setdefault(c, []).append(i)
        waiting.add(i)
        heapq.heappush(heap, (v / weight[i], _START, i, 0))

    def advance(c: int, level: float) -> None:
        base[c] -= slope[c] * (level - ref[c])
        ref[c] = level

    def push_hit(c: int, level: float) -> None:
        version[c] += 1
        if slope[c] > 0:
            at = level + max(base[c], 0.0) / slope[c]
            heapq.heappush(heap, (at, _HIT, c, version[c]))

    def freeze(i: int, level: float, reason: Frozen) -> None:
        if i in rising_now:
            rising_now.discard(i)
            state.values[i] = min(cap[i], weight[i] * level)
            for c in state.constraints[i]:
                advance(c, level)
                slope[c] -= weight[i]
                push_hit(c, level)
        else:
            waiting.discard(i)
        why[i] = reason

    while heap:
        level, kind, ident, ver = heapq.heappop(heap)
        if kind == _HIT:
            if ver != version[ident]:
                continue
            advance(ident, level)
            for i in members.get(ident, ()):
                if i in rising_now or i in waiting:
                    freeze(i, level, Frozen(at_cap=False, constraint=ident))
            continue
        i = ident
        if i in why:
            continue
        if kind == _START:
            full = [
                c for c in state.constraints[i] if base[c] - slope[c] * (level - ref[c]) <= _EPS
            ]
            if full:
                freeze(i, level, Frozen(at_cap=False, constraint=full[0]))
                continue
            waiting.discard(i)
            rising_now.add(i)
            for c in state.constraints[i]:
                advance(c, level)
                slope[c] += weight[i]
                push_hit(c, level)
            heapq.heappush(heap, (cap[i] / weight[i], _CAP, i, 0))
        else:
            freeze(i, level, Frozen(at_cap=True))
            state.values[i] = cap[i]
    return why
