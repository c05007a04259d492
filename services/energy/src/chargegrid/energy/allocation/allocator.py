"""The allocator: a target limit per EVSE under every node's limit on every phase."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chargegrid.energy.allocation.model import Allocation, Evse, SitePolicy, Topology


def allocate(
    topology: Topology, evses: Sequence[Evse], policy: SitePolicy, now: datetime
) -> Allocation:
    """Compute the target limit of every EVSE of one site (see docs/energy-management.md)."""
    raise NotImplementedError
