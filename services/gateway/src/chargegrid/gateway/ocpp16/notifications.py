"""1.6 firmware, diagnostics, log and security notifications, and SignCertificate."""

from __future__ import annotations

from typing import Any

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway.events import notification, station_event
from chargegrid.gateway.routing import CallContext, Outcome


async def firmware_status(_context: CallContext, payload: dict[str, Any]) -> Outcome:
    event = station_events.FirmwareStatusChanged(status=payload["status"])
    return Outcome({}, [station_event("firmware_status", event)])


async def signed_firmware_status(_context: CallContext, payload: dict[str, Any]) -> Outcome:
    event = station_events.FirmwareStatusChanged(
        status=payload["status"], request_id=int(payload.get("requestId", 0)), signed=True
    )
    return Outcome({}, [station_event("firmware_status", event)])


async def diagnostics_status(_context: CallContext, payload: dict[str, Any]) -> Outcome:
    event = station_events.LogStatusChanged(status=payload["status"], kind="diagnostics")
    return Outcome({}, [station_event("log_status", event)])


async def sign_certificate(context: CallContext, payload: dict[str, Any]) -> Outcome:
    # The stations service's CA decides (ADR 017); 1.6 has no statusInfo and one kind of
    # certificate. The CSR is kept whole as a notification (audit).
    decision = await context.decisions.sign_certificate(context.station_id, payload["csr"], "")
    return Outcome({"status": decision.status}, [notification("SignCertificate", payload)])
