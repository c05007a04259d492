"""The allocator's data model: a site's circuit tree, its EVSEs and their safety state.

Everything here is a frozen dataclass validated on construction, so a value that exists is a
value the allocator can trust; bad input raises a `ValueError` subclass naming what is wrong.
Currents are amperes per phase, times are timezone-aware datetimes supplied by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

# Limits beyond these are typing mistakes, not installations (a 10 kA grid connection is a
# substation; a 1 kA AC EVSE does not exist).
MAX_NODE_LIMIT_A = 10_000.0
MAX_NODE_LIMIT_KW = 10_000.0
MAX_EVSE_CURRENT_A = 1_000.0
DEFAULT_MIN_CURRENT_A = 6.0
DEFAULT_VOLTAGE_V = 230.0


class Phase(StrEnum):
    """A grid phase of the site's connection."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


PHASES: tuple[Phase, Phase, Phase] = (Phase.L1, Phase.L2, Phase.L3)
PHASE_INDEX: Mapping[Phase, int] = {Phase.L1: 0, Phase.L2: 1, Phase.L3: 2}


class EnergyModelError(ValueError):
    """Input the energy allocator refuses; the message says what and why."""


class TopologyError(EnergyModelError):
    """A circuit tree that cannot be a real installation (cycle, orphan, bad limit...)."""


class EvseError(EnergyModelError):
    """An EVSE description that contradicts itself or its topology."""


def _check_current(value: float, what: str, upper: float, error: type[EnergyModelError]) -> None:
    if not math.isfinite(value) or value < 0:
        raise error(f"{what} must be a finite, non-negative current, got {value!r}")
    if value > upper:
        raise error(f"{what} of {value} A is beyond {upper:g} A; refusing an absurd value")


@dataclass(frozen=True, slots=True)
class PhaseCurrents:
    """A current per grid phase, in amperes."""

    l1: float = 0.0
    l2: float = 0.0
    l3: float = 0.0

    @classmethod
    def uniform(cls, amps: float) -> PhaseCurrents:
        return cls(amps, amps, amps)

    @classmethod
    def from_sequence(cls, values: Iterable[float]) -> PhaseCurrents:
        l1, l2, l3 = values
        return cls(float(l1), float(l2), float(l3))

    def __getitem__(self, phase: Phase) -> float:
        return (self.l1, self.l2, self.l3)[PHASE_INDEX[phase]]

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.l1, self.l2, self.l3)

    def __iter__(self) -> Iterator[float]:
        return iter((self.l1, self.l2, self.l3))


@dataclass(frozen=True, slots=True)
class Node:
    """One point of the site's circuit tree with its limit: the grid connection (no parent) or
    a sub-circuit (a breaker, a busbar). `limit_kw`, when set, is turned into an extra per-phase
    current limit of limit_kw / (3 x voltage): conservative for unbalanced load, since no phase
    may then carry more than a third of the power."""

    id: str
    parent_id: str | None
    limit_a: PhaseCurrents
    limit_kw: float | None = None
    voltage_v: float = DEFAULT_VOLTAGE_V

    def __post_init__(self) -> None:
        if not self.id:
            raise TopologyError("a node needs a non-empty id")
        if self.parent_id == self.id:
            raise TopologyError(f"node {self.id!r} cannot be its own parent")
        for phase, amps in zip(PHASES, self.limit_a, strict=True):
            _check_current(
                amps, f"node {self.id!r} limit on {phase}", MAX_NODE_LIMIT_A, TopologyError
            )
        if self.limit_kw is not None:
            kw = self.limit_kw
            if not math.isfinite(kw) or kw < 0 or kw > MAX_NODE_LIMIT_KW:
                raise TopologyError(f"node {self.id!r} limit of {kw!r} kW is negative or absurd")
        if not math.isfinite(self.voltage_v) or not 100.0 <= self.voltage_v <= 1000.0:
            raise TopologyError(f"node {self.id!r} voltage {self.voltage_v!r} V is not plausible")

    def effective_limit_a(self) -> PhaseCurrents:
        """The per-phase current limit after the kW limit (if any) is applied."""
        if self.limit_kw is None:
            return self.limit_a
        per_phase = self.limit_kw * 1000.0 / (3.0 * self.voltage_v)
        return PhaseCurrents.from_sequence(min(a, per_phase) for a in self.limit_a)


@dataclass(frozen=True)
class Topology:
    """The circuit tree of one site: exactly one root (the grid connection), every other node
    below a known parent, no cycles. Built once per change; lookups are precomputed."""

    site_id: str
    nodes: tuple[Node, ...]
    _by_id: Mapping[str, Node] = field(init=False, repr=False, compare=False)
    _path: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.site_id:
            raise TopologyError("a topology needs a site id")
        by_id: dict[str, Node] = {}
        for node in self.nodes:
            if node.id in by_id:
                raise TopologyError(f"node id {node.id!r} appears twice")
            by_id[node.id] = node
        roots = [n.id for n in self.nodes if n.parent_id is None]
        if len(roots) != 1:
            raise TopologyError(f"a site needs exactly one grid connection (root), got {roots}")
        for node in self.nodes:
            if node.parent_id is not None and node.parent_id not in by_id:
                raise TopologyError(f"node {node.id!r} has unknown parent {node.parent_id!r}")
        paths: dict[str, tuple[str, ...]] = {}
        for node in self.nodes:
            paths[node.id] = _walk_up(node.id, by_id, paths)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_path", paths)

    @classmethod
    def single(cls, site_id: str, limit_a: PhaseCurrents, node_id: str = "grid") -> Topology:
        """A site with only its grid connection."""
        return cls(site_id, (Node(node_id, None, limit_a),))

    @property
    def root(self) -> Node:
        return self._by_id[self._path[self.nodes[0].id][-1]]

    def node(self, node_id: str) -> Node:
        """The node with this id (TopologyError if unknown)."""
        try:
            return self._by_id[node_id]
        except KeyError:
            raise TopologyError(f"unknown node {node_id!r} in site {self.site_id!r}") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def path_to_root(self, node_id: str) -> tuple[str, ...]:
        """The node and all its ancestors, the node first, the root last."""
        self.node(node_id)
        return self._path[node_id]

    @property
    def paths(self) -> Mapping[str, tuple[str, ...]]:
        """`path_to_root` of every node, for loops that look up many EVSEs' paths (no
        per-call check: index it only with node ids known to be in this topology)."""
        return self._path

    def with_limit(
        self, node_id: str, limit_a: PhaseCurrents, limit_kw: float | None = None
    ) -> Topology:
        """A copy with one node's limit replaced (an operator SetLimit or a DR event)."""
        old = self.node(node_id)
        new = Node(old.id, old.parent_id, limit_a, limit_kw, old.voltage_v)
        return Topology(self.site_id, tuple(new if n.id == node_id else n for n in self.nodes))


def _walk_up(
    start: str, by_id: Mapping[str, Node], known: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    path: list[str] = []
    seen: set[str] = set()
    current: str | None = start
    while current is not None:
        if current in known:
            return (*path, *known[current])
        if current in seen:
            raise TopologyError(f"the circuit tree has a cycle through node {current!r}")
        seen.add(current)
        path.append(current)
        current = by_id[current].parent_id
    return tuple(path)


class EvseKey(NamedTuple):
    """An EVSE across the whole system: its station and its EVSE (connector) id."""

    station_id: str
    evse_id: int


class StaleReason(StrEnum):
    """Why the allocator cannot trust what an EVSE last accepted."""

    REJECTED = "rejected"
    NO_ANSWER = "no_answer"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Evse:
    """The allocator's view of one EVSE.

    `rotation[i]` is the grid phase that the station's phase i+1 is wired to; a 1-phase
    station on L2 has rotation (L2,). `ev_phases` is how many of the station's phases the EV
    draws on (measured; None = all the station's), counted from the station's first phase,
    as Type 2 EVs always use L1 first. `measured_a` is what the EV draws on each of the
    station's phases (same order as rotation), None when unknown.

    Safety state: `accepted_a` is the limit the station confirmed (None = nothing confirmed,
    so it may draw its max), `pending_a` a limit sent but not yet confirmed, `stale` set when
    the station rejected a profile, did not answer or went offline. `offline_fallback_a` is the
    fallback/default profile limit the station confirmed at boot (None = no fallback known).
    """

    key: EvseKey
    node_id: str
    max_current_a: float
    arrived_at: datetime
    min_current_a: float = DEFAULT_MIN_CURRENT_A
    phases: int = 3
    rotation: tuple[Phase, ...] = PHASES
    ev_phases: int | None = None
    priority: int = 0
    weight: float = 1.0
    active: bool = True
    measured_a: tuple[float, ...] | None = None
    departure_at: datetime | None = None
    energy_needed_wh: float | None = None
    offline_fallback_a: float | None = None
    accepted_a: float | None = None
    pending_a: float | None = None
    stale: StaleReason | None = None

    def __post_init__(self) -> None:
        name = f"EVSE {self.key.station_id}/{self.key.evse_id}"
        _check_current(self.max_current_a, f"{name} max current", MAX_EVSE_CURRENT_A, EvseError)
        _check_current(self.min_current_a, f"{name} min current", self.max_current_a, EvseError)
        for what in ("offline_fallback_a", "accepted_a", "pending_a"):
            value = getattr(self, what)
            if value is not None:
                _check_current(value, f"{name} {what}", MAX_EVSE_CURRENT_A, EvseError)
        if self.phases not in (1, 3):
            raise EvseError(f"{name} must be wired 1- or 3-phase, got {self.phases}")
        if len(self.rotation) != self.phases or len(set(self.rotation)) != self.phases:
            raise EvseError(f"{name} rotation {self.rotation} does not match {self.phases} phases")
        if self.ev_phases is not None and not 1 <= self.ev_phases <= self.phases:
            raise EvseError(f"{name} EV draws on {self.ev_phases} of {self.phases} phases")
        if not math.isfinite(self.weight) or self.weight <= 0:
            raise EvseError(f"{name} weight must be positive, got {self.weight!r}")
        if self.measured_a is not None:
            if len(self.measured_a) != self.phases:
                raise EvseError(f"{name} measured {len(self.measured_a)} phases of {self.phases}")
            for amps in self.measured_a:
                _check_current(amps, f"{name} measured draw", MAX_EVSE_CURRENT_A, EvseError)
        if self.energy_needed_wh is not None and (
            not math.isfinite(self.energy_needed_wh) or self.energy_needed_wh < 0
        ):
            raise EvseError(f"{name} energy needed must be non-negative")
        if self.arrived_at.tzinfo is None:
            raise EvseError(f"{name} arrival time must be timezone-aware")
        if self.departure_at is not None and self.departure_at.tzinfo is None:
            raise EvseError(f"{name} departure time must be timezone-aware")

    @property
    def grid_phases(self) -> tuple[Phase, ...]:
        """The grid phases this EVSE's EV loads: a 1-phase EV only its station's first."""
        return self.rotation[: self.ev_phases] if self.ev_phases else self.rotation


class PolicyName(StrEnum):
    """How the current left after the minimums is shared (selectable per site)."""

    FAIR = "fair"  # by weight, priority only decides who is paused first
    PRIORITY = "priority"  # higher priority filled to its max before lower ones get more
    DEADLINE = "deadline"  # EVs that would miss their departure get what they need first


@dataclass(frozen=True, slots=True)
class SitePolicy:
    """The per-site allocator settings (documented in docs/energy-management.md)."""

    name: PolicyName = PolicyName.FAIR
    # An EV drawing more than this below its allowance on every phase is "not taking it".
    unused_threshold_a: float = 1.5
    # What such an EV keeps above its measured draw so it can ramp back up; larger than the
    # threshold (plus one resolution step), so a capped EV that keeps its draw stays capped.
    ramp_margin_a: float = 3.0
    # Limits are rounded down to this step (OCPP charging rates carry one decimal).
    resolution_a: float = 0.1
    # Voltage used to turn energy needs into currents for the deadline policy.
    voltage_v: float = DEFAULT_VOLTAGE_V

    def __post_init__(self) -> None:
        for what in ("unused_threshold_a", "ramp_margin_a"):
            _check_current(getattr(self, what), what, 100.0, EnergyModelError)
        if not math.isfinite(self.resolution_a) or not 0.001 <= self.resolution_a <= 1.0:
            raise EnergyModelError(f"resolution {self.resolution_a!r} A must be 0.001..1 A")
        if not math.isfinite(self.voltage_v) or not 100.0 <= self.voltage_v <= 1000.0:
            raise EnergyModelError(f"voltage {self.voltage_v!r} V is not plausible")
        if self.ramp_margin_a < self.unused_threshold_a + self.resolution_a:
            raise EnergyModelError(
                f"ramp margin {self.ramp_margin_a} A must exceed the unused threshold "
                f"{self.unused_threshold_a} A by a resolution step, or capped EVs would flap"
            )


class Reason(StrEnum):
    """Why an EVSE got the limit it got."""

    IDLE = "idle"  # no EV wants power: 0 A
    PAUSED = "paused"  # its minimum does not fit: 0 A
    STALE = "stale"  # not trusted: held at what it may draw anyway
    AT_MAX = "at_max"  # got its own maximum
    CAPPED_BY_NODE = "capped_by_node"  # a node on its path is full (see node_id)
    LIMITED_BY_DRAW = "limited_by_draw"  # draws less than allowed; the rest went to others


@dataclass(frozen=True, slots=True)
class EvseAllocation:
    """The target limit of one EVSE and why (node_id: the full node, for CAPPED/PAUSED)."""

    key: EvseKey
    limit_a: float
    reason: Reason
    grid_phases: tuple[Phase, ...]
    node_id: str | None = None


@dataclass(frozen=True, slots=True)
class NodeLoad:
    """A node's effective limit, the load planned below it and the headroom left, per phase."""

    node_id: str
    limit_a: PhaseCurrents
    planned_a: PhaseCurrents
    headroom_a: PhaseCurrents


@dataclass(frozen=True)
class Allocation:
    """The outcome of one allocation run for one site."""

    site_id: str
    policy: PolicyName
    computed_at: datetime
    evses: Mapping[EvseKey, EvseAllocation]
    nodes: Mapping[str, NodeLoad]

    def limit_for(self, key: EvseKey) -> float:
        return self.evses[key].limit_a
