"""From stored rows to the allocator's model: the site's effective limit (grid connection,
operator limit and demand response together), its circuit tree, and one `Evse` per
charging EVSE with its settings, priority, measurements and safety state.

Pure functions: the controller reads the rows, these turn them into values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chargegrid.energy import meter
from chargegrid.energy.allocation import (
    PHASES,
    Evse,
    EvseKey,
    Node,
    Phase,
    PhaseCurrents,
    StaleReason,
    Topology,
)
from chargegrid.energy.allocation.model import MAX_NODE_LIMIT_A
from chargegrid.energy.models import (
    ChargingEvseRow,
    CircuitRow,
    DemandResponseRow,
    GroupPriorityRow,
    StationSettingsRow,
)

#: The node id of a site's grid connection (circuits hang below it with parent "").
ROOT = "grid"
#: How long after accepting a new limit an EV's meter is taken to show how it follows it.
MEASURE_SETTLE = timedelta(seconds=2)


@dataclass(frozen=True)
class StationDefaults:
    """What a station without its own settings is taken to be."""

    max_current_a: float = 32.0
    min_current_a: float = 6.0
    phases: int = 3
    offline_fallback_a: float = 0.0
    voltage_v: float = 230.0


@dataclass
class Safety:
    """What one EVSE's station has been told and has answered, for its transaction."""

    transaction_id: str
    accepted_a: float | None = None
    pending_a: float | None = None
    stale: StaleReason | None = None
    #: A TxProfile was sent for this transaction (then the default profile no longer rules).
    profiled: bool = False
    #: When the station last accepted a limit: older meter samples say nothing about it.
    accepted_at: datetime | None = None


def dr_limit_a(row: DemandResponseRow, base_a: float, phases: int, voltage_v: float) -> float:
    """The per-phase current a DR event allows, given the limit in force without it."""
    if row.kind == "percent":
        return base_a * row.value / 100.0
    if row.kind == "limit_kw":
        return row.value * 1000.0 / (max(phases, 1) * voltage_v)
    return row.value


def effective_limit(
    grid_limit_a: float,
    grid_phases: int,
    operator_limit_a: float,
    demand_response: DemandResponseRow | None,
    voltage_v: float,
) -> PhaseCurrents:
    """The per-phase limit of the grid connection now; unset limits count as unlimited."""
    limits = [value for value in (grid_limit_a, operator_limit_a) if value > 0]
    base = min(limits) if limits else MAX_NODE_LIMIT_A
    if demand_response is not None:
        base = min(base, max(0.0, dr_limit_a(demand_response, base, grid_phases, voltage_v)))
    base = min(base, MAX_NODE_LIMIT_A)
    # A 1-phase connection carries nothing on L2 and L3.
    return PhaseCurrents(base, base if grid_phases >= 2 else 0.0, base if grid_phases >= 3 else 0.0)


def topology(site_id: str, limit: PhaseCurrents, circuits: list[CircuitRow]) -> Topology:
    nodes = [Node(ROOT, None, limit)]
    for row in circuits:
        nodes.append(
            Node(
                row.id,
                row.parent_id or ROOT,
                PhaseCurrents(row.limit_l1_a, row.limit_l2_a, row.limit_l3_a),
                row.limit_kw or None,
                row.nominal_voltage_v,
            )
        )
    return Topology(site_id, tuple(nodes))


def rotation_of(text: str, phases: int) -> tuple[Phase, ...]:
    if not text:
        return PHASES[:phases]
    return tuple(Phase(part.strip().upper()) for part in text.split(","))


def energy_still_needed_wh(row: ChargingEvseRow) -> float | None:
    """What the EV stated it needs, less what the meter delivered since it said so (None
    without a stated need): the deadline policy's currents follow the session's progress
    instead of asking for the whole need again at every rebalance."""
    if row.energy_needed_wh is None:
        return None
    if row.energy_register_wh is None or row.needs_register_wh is None:
        return row.energy_needed_wh
    delivered = max(0.0, row.energy_register_wh - row.needs_register_wh)
    return max(0.0, row.energy_needed_wh - delivered)


def evse(
    row: ChargingEvseRow,
    settings: StationSettingsRow | None,
    priority: GroupPriorityRow | None,
    safety: Safety | None,
    defaults: StationDefaults,
    rated_a: float,
    known_nodes: set[str],
    fallback_confirmed_a: float | None,
) -> Evse:
    """The allocator's view of one charging EVSE."""
    phases = settings.phases if settings else defaults.phases
    max_a = settings.max_current_a if settings else (rated_a or defaults.max_current_a)
    if row.ev_max_current_a:
        max_a = min(max_a, row.ev_max_current_a)
    min_a = min(settings.min_current_a if settings else defaults.min_current_a, max_a)
    node_id = settings.node_id if settings and settings.node_id in known_nodes else ROOT
    measured = (row.measured_l1_a, row.measured_l2_a, row.measured_l3_a)[:phases]
    # An EV drawing less than a limit it has not had time to follow is not "not taking it".
    settled = (
        safety is None
        or safety.accepted_at is None
        or (row.measured_at is not None and row.measured_at >= safety.accepted_at + MEASURE_SETTLE)
    )
    measured_a = (
        tuple(value or 0.0 for value in measured)
        if settled and any(value is not None for value in measured)
        else None
    )
    stale = safety.stale if safety else None
    # A transaction no profile of ours has reached yet obeys the station's default profile.
    accepted = safety.accepted_a if safety else fallback_confirmed_a
    return Evse(
        key=EvseKey(row.station_id, row.evse_id),
        node_id=node_id,
        max_current_a=max_a,
        min_current_a=min_a,
        arrived_at=row.started_at,
        phases=phases,
        rotation=rotation_of(settings.rotation if settings else "", phases),
        ev_phases=meter.phases_in_use(measured_a) if measured_a else None,
        priority=priority.priority if priority else 0,
        weight=priority.weight if priority else 1.0,
        measured_a=measured_a,
        departure_at=row.departure_at,
        energy_needed_wh=energy_still_needed_wh(row),
        offline_fallback_a=fallback_confirmed_a,
        accepted_a=accepted,
        pending_a=safety.pending_a if safety else None,
        stale=stale,
    )


def active_demand_response(
    rows: list[DemandResponseRow], now: datetime
) -> DemandResponseRow | None:
    for row in rows:
        if row.starts_at <= now < row.ends_at and row.state in ("scheduled", "active"):
            return row
    return None


def next_boundary(rows: list[DemandResponseRow], now: datetime) -> datetime | None:
    """The next start or end of an open event, when the controller must act."""
    times = [t for row in rows for t in (row.starts_at, row.ends_at) if t > now]
    return min(times) if times else None


def idle_evse(
    key: EvseKey,
    settings: StationSettingsRow | None,
    defaults: StationDefaults,
    rated_a: float,
    known_nodes: set[str],
    fallback_confirmed_a: float | None,
    now: datetime,
) -> Evse:
    """An EVSE without a transaction: a new EV there draws what its default profile allows
    (its maximum while none is confirmed), so the allocator keeps that much for it."""
    phases = settings.phases if settings else defaults.phases
    max_a = settings.max_current_a if settings else (rated_a or defaults.max_current_a)
    return Evse(
        key=key,
        node_id=settings.node_id if settings and settings.node_id in known_nodes else ROOT,
        max_current_a=max_a,
        min_current_a=min(settings.min_current_a if settings else defaults.min_current_a, max_a),
        arrived_at=now,
        phases=phases,
        rotation=rotation_of(settings.rotation if settings else "", phases),
        active=False,
        offline_fallback_a=fallback_confirmed_a,
        accepted_a=fallback_confirmed_a,
    )
