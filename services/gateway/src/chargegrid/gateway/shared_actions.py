"""Handlers for actions whose payload is the same in 1.6 (security extension) and 2.x."""

from __future__ import annotations

from typing import Any

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway.events import station_event
from chargegrid.gateway.normalize import parse_time
from chargegrid.gateway.routing import CallContext, Outcome


async def log_status(_context: CallContext, payload: dict[str, Any]) -> Outcome:
    event = station_events.LogStatusChanged(
        status=payload["status"], request_id=int(payload.get("requestId", 0)), kind="log"
    )
    return Outcome({}, [station_event("log_status", event)])


async def security_event(context: CallContext, payload: dict[str, Any]) -> Outcome:
    event = station_events.SecurityEventReceived(
        type=payload["type"], tech_info=payload.get("techInfo", "")
    )
    when = parse_time(payload.get("timestamp"), context.received_at)
    return Outcome({}, [station_event("security_event", event, when)])
