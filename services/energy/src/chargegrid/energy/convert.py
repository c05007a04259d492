"""Proto <-> domain for the energy API and events, in one place."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.energy.allocation import PhaseCurrents, Reason
from chargegrid.energy.models import DemandResponseRow
from chargegrid.energy.site_model import ROOT
from chargegrid.platform.bus.envelope import set_timestamp

REASONS = {
    Reason.IDLE: pb.ALLOCATION_REASON_IDLE,
    Reason.PAUSED: pb.ALLOCATION_REASON_PAUSED,
    Reason.STALE: pb.ALLOCATION_REASON_STALE,
    Reason.AT_MAX: pb.ALLOCATION_REASON_AT_MAX,
    Reason.CAPPED_BY_NODE: pb.ALLOCATION_REASON_CAPPED_BY_NODE,
    Reason.LIMITED_BY_DRAW: pb.ALLOCATION_REASON_LIMITED_BY_DRAW,
}
DR_STATES = {
    "scheduled": pb.DEMAND_RESPONSE_STATE_SCHEDULED,
    "active": pb.DEMAND_RESPONSE_STATE_ACTIVE,
    "ended": pb.DEMAND_RESPONSE_STATE_ENDED,
    "cancelled": pb.DEMAND_RESPONSE_STATE_CANCELLED,
}


def phases(values: PhaseCurrents) -> pb.PhaseCurrents:
    return pb.PhaseCurrents(l1=values.l1, l2=values.l2, l3=values.l3)


def node_name(node_id: str) -> str:
    """The API spells the grid connection ""."""
    return "" if node_id == ROOT else node_id


def stamp(when: datetime) -> Timestamp:
    out = Timestamp()
    set_timestamp(out, when)
    return out


def time_of(value: Timestamp) -> datetime | None:
    return value.ToDatetime(tzinfo=UTC) if value.seconds or value.nanos else None


def demand_response(row: DemandResponseRow) -> pb.DemandResponseEvent:
    event = pb.DemandResponseEvent(
        id=row.id,
        site_id=row.site_id,
        start=stamp(row.starts_at),
        end=stamp(row.ends_at),
        state=DR_STATES.get(row.state, pb.DEMAND_RESPONSE_STATE_UNSPECIFIED),
        source=row.source,
        created_at=stamp(row.created_at),
    )
    setattr(event, row.kind, row.value)
    return event
