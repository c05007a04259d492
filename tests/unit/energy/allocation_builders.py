"""Test data for the energy allocator: sites and EVSEs with overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargegrid.energy.allocation import Evse, EvseKey, Node, PhaseCurrents, Topology

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def amps(value: float) -> PhaseCurrents:
    return PhaseCurrents.uniform(value)


def a_site(limit_a: float, *circuits: tuple[str, str, float], site_id: str = "site-1") -> Topology:
    """A site whose grid connection ("grid") has `limit_a` per phase, plus circuits given as
    (id, parent id, limit per phase)."""
    nodes = [Node("grid", None, amps(limit_a))]
    nodes += [Node(node_id, parent, amps(limit)) for node_id, parent, limit in circuits]
    return Topology(site_id, tuple(nodes))


def an_evse(name: str, **overrides: Any) -> Evse:
    """A 3-phase 32 A EVSE on the grid node that arrived at T0 and has nothing confirmed."""
    values: dict[str, Any] = {
        "key": EvseKey(name, 1),
        "node_id": "grid",
        "max_current_a": 32.0,
        "arrived_at": T0,
    }
    values.update(overrides)
    return Evse(**values)
