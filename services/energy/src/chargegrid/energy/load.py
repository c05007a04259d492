"""A site snapshot as the API's SiteLoad and as an allocation-history record."""

from __future__ import annotations

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.energy.allocation import PhaseCurrents
from chargegrid.energy.convert import REASONS, node_name, phases, stamp
from chargegrid.energy.snapshot import SiteSnapshot, headroom


def evse_loads(snapshot: SiteSnapshot) -> list[pb.EvseLoad]:
    found: list[pb.EvseLoad] = []
    for evse in snapshot.evses:
        target = snapshot.allocation.evses.get(evse.key)
        charging = snapshot.charging.get(evse.key)
        measured = [0.0, 0.0, 0.0]
        for amps, phase in zip(evse.measured_a or (), evse.rotation, strict=False):
            measured[("L1", "L2", "L3").index(phase.value)] = amps
        found.append(
            pb.EvseLoad(
                station_id=evse.key.station_id,
                evse_id=evse.key.evse_id,
                node_id=node_name(evse.node_id),
                transaction_id=charging.transaction_id if charging else "",
                allocated_a=target.limit_a if target else 0.0,
                accepted_a=evse.accepted_a or 0.0,
                pending_a=evse.pending_a or 0.0,
                stale=evse.stale is not None,
                reason=REASONS[target.reason] if target else pb.ALLOCATION_REASON_UNSPECIFIED,
                reason_detail=(target.node_id or "") if target else "",
                measured_a=phases(PhaseCurrents.from_sequence(measured)),
                phases=evse.phases,
                priority=evse.priority,
                min_current_a=evse.min_current_a,
                max_current_a=evse.max_current_a,
                group_id=charging.group_id if charging else "",
            )
        )
    return found


def site_load(snapshot: SiteSnapshot) -> pb.SiteLoad:
    nodes = []
    for node in snapshot.topology.nodes:
        limit = node.effective_limit_a()
        planned = snapshot.allocation.nodes.get(node.id)
        worst = snapshot.worst_case_a[node.id]
        measured = snapshot.measured_a[node.id]
        nodes.append(
            pb.NodeLoad(
                node_id=node_name(node.id),
                limit_a=phases(limit),
                planned_a=phases(planned.planned_a if planned else PhaseCurrents()),
                worst_case_a=phases(worst),
                measured_a=phases(measured),
                headroom_a=phases(headroom(limit, measured)),
            )
        )
    root = snapshot.topology.root.id
    return pb.SiteLoad(
        site_id=snapshot.site_id,
        policy=snapshot.policy.value,
        grid_limit_a=snapshot.grid_limit_a,
        operator_limit_a=snapshot.operator_limit_a,
        effective_limit_a=phases(snapshot.effective_limit_a),
        demand_response_id=snapshot.demand_response_id,
        nodes=nodes,
        evses=evse_loads(snapshot),
        measured_a=phases(snapshot.measured_a[root]),
        headroom_a=phases(headroom(snapshot.effective_limit_a, snapshot.measured_a[root])),
        computed_at=stamp(snapshot.computed_at),
    )
