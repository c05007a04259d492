"""A site's load as the controller last saw it: what GetSiteLoad and WatchSiteLoad show.

Measured draw per node is summed from the meters the same way the allocator sums limits:
each station phase on the grid phase its rotation names, on every node up to the root.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from chargegrid.energy.allocation import (
    PHASES,
    Allocation,
    Evse,
    EvseKey,
    PhaseCurrents,
    PolicyName,
    Topology,
)
from chargegrid.energy.allocation.model import PHASE_INDEX


@dataclass(frozen=True)
class Charging:
    """What the snapshot shows of a charging EVSE besides the allocator's view."""

    transaction_id: str
    group_id: str


@dataclass(frozen=True)
class SiteSnapshot:
    site_id: str
    policy: PolicyName
    grid_limit_a: float
    operator_limit_a: float
    effective_limit_a: PhaseCurrents
    demand_response_id: str
    topology: Topology
    evses: tuple[Evse, ...]
    allocation: Allocation
    worst_case_a: Mapping[str, PhaseCurrents]
    measured_a: Mapping[str, PhaseCurrents]
    charging: Mapping[EvseKey, Charging]
    computed_at: datetime
    #: True when this process applied it (leader); False for a preview.
    applied: bool = True

    @property
    def paused(self) -> int:
        return sum(1 for a in self.allocation.evses.values() if a.reason == "paused")


def measured_load(topology: Topology, evses: Iterable[Evse]) -> dict[str, PhaseCurrents]:
    sums = {node.id: [0.0, 0.0, 0.0] for node in topology.nodes}
    for evse in evses:
        if evse.measured_a is None:
            continue
        for node_id in topology.path_to_root(evse.node_id):
            row = sums[node_id]
            for amps, phase in zip(evse.measured_a, evse.rotation, strict=True):
                row[PHASE_INDEX[phase]] += amps
    return {node_id: PhaseCurrents.from_sequence(row) for node_id, row in sums.items()}


def headroom(limit: PhaseCurrents, load: PhaseCurrents) -> PhaseCurrents:
    return PhaseCurrents.from_sequence(max(0.0, limit[p] - load[p]) for p in PHASES)
