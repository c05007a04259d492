"""Demand-response events over time: scheduled -> active at their start -> ended at their
end (or cancelled by an operator). The controller calls `advance` at every rebalance and
wakes itself at the next boundary, so an event takes effect at its start, not at the next
periodic tick."""

from __future__ import annotations

from datetime import datetime

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.energy.convert import demand_response
from chargegrid.energy.models import DemandResponseRow

STARTED = "demand_response_started"
ENDED = "demand_response_ended"


def advance(rows: list[DemandResponseRow], now: datetime) -> list[tuple[str, DemandResponseRow]]:
    """Move each open event to the state `now` puts it in; the transitions made."""
    moved: list[tuple[str, DemandResponseRow]] = []
    for row in rows:
        if row.ends_at <= now:
            was_active = row.state == "active"
            row.state = "ended"
            if was_active:
                moved.append((ENDED, row))
        elif row.starts_at <= now and row.state == "scheduled":
            row.state = "active"
            moved.append((STARTED, row))
    return moved


def changed_event(row: DemandResponseRow) -> pb.DemandResponseChanged:
    return pb.DemandResponseChanged(event=demand_response(row))
