"""2.x notifications: firmware, logs, security, reports, charging limits, reservations.

Reports and notifications nothing normalizes yet are kept whole as JSON events, so the
services that own them (stations for device models, energy for charging needs) read them
from Kafka. Certificate requests are answered by the stations service (`certificates`).
"""

from __future__ import annotations

from typing import Any

import orjson

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway.events import notification, station_event
from chargegrid.gateway.normalize import parse_time
from chargegrid.gateway.routing import CallContext, Outcome


async def firmware_status(_context: CallContext, payload: dict[str, Any]) -> Outcome:
    event = station_events.FirmwareStatusChanged(
        status=payload["status"],
        request_id=int(payload.get("requestId", 0)),
        signed="requestId" in payload,
    )
    return Outcome({}, [station_event("firmware_status", event)])


def report(action: str) -> Any:
    """NotifyReport and NotifyMonitoringReport: device-model data, kept as JSON, in parts."""

    async def handle(context: CallContext, payload: dict[str, Any]) -> Outcome:
        event = station_events.ReportReceived(
            action=action,
            request_id=int(payload["requestId"]),
            seq_no=int(payload["seqNo"]),
            tbc=bool(payload.get("tbc", False)),
            payload_json=orjson.dumps(payload).decode(),
        )
        when = parse_time(payload.get("generatedAt"), context.received_at)
        return Outcome({}, [station_event("report", event, when)])

    return handle


def kept(action: str, response: dict[str, Any] | None = None) -> Any:
    """A notification stored whole, answered with `response` (default: the empty answer)."""
    answer = response or {}

    async def handle(_context: CallContext, payload: dict[str, Any]) -> Outcome:
        return Outcome(dict(answer), [notification(action, payload)])

    return handle


# Energy reads the needs (departure, energy, EV max current) from the kept notification and
# sends the schedule as a TxProfile: Accepted tells the station one is coming.
ev_charging_needs = kept("NotifyEVChargingNeeds", {"status": "Accepted"})
ev_charging_schedule = kept("NotifyEVChargingSchedule", {"status": "Accepted"})
