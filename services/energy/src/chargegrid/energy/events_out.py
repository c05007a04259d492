"""energy.events.v1 payloads built from the controller's values."""

from __future__ import annotations

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.energy.convert import REASONS, phases
from chargegrid.energy.gateway import ProfileResult
from chargegrid.energy.snapshot import SiteSnapshot


def allocation_changed(snapshot: SiteSnapshot, trigger: str) -> pb.AllocationChanged:
    return pb.AllocationChanged(
        site_id=snapshot.site_id,
        trigger=trigger[:128],
        effective_limit_a=phases(snapshot.effective_limit_a),
        evses=[
            pb.EvseAllocation(
                station_id=key.station_id,
                evse_id=key.evse_id,
                limit_a=a.limit_a,
                reason=REASONS.get(a.reason, pb.ALLOCATION_REASON_UNSPECIFIED),
            )
            for key, a in sorted(snapshot.allocation.evses.items())
        ],
    )


def profile_applied(
    site_id: str, evse_id: int, limit_a: float, profile: gw.ChargingProfile, purpose: str
) -> pb.ProfileApplied:
    return pb.ProfileApplied(
        site_id=site_id,
        evse_id=evse_id,
        limit_a=limit_a,
        profile_id=profile.id,
        transaction_id=profile.transaction_id,
        purpose=purpose,
    )


def profile_rejected(
    site_id: str, evse_id: int, limit_a: float, result: ProfileResult
) -> pb.ProfileRejected:
    return pb.ProfileRejected(
        site_id=site_id,
        evse_id=evse_id,
        limit_a=limit_a,
        status=result.status if result.outcome.value == "rejected" else result.outcome.value,
        detail=result.detail[:256],
    )
