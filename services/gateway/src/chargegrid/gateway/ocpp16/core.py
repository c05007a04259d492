"""1.6 BootNotification, Heartbeat, StatusNotification, Authorize and DataTransfer."""

from __future__ import annotations

from typing import Any

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway.decisions import AuthRequest, BootRequest
from chargegrid.gateway.events import notification, station_event, token_authorized
from chargegrid.gateway.normalize import connector_status, parse_time
from chargegrid.gateway.routing import CallContext, Outcome

ID_TAG = "IdTag"
#: 1.6 AuthorizationStatus values; 2.x-only answers (NotAtThisLocation, ...) become Invalid.
STATUSES_16 = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})


def status_16(status: str) -> str:
    return status if status in STATUSES_16 else "Invalid"


def _iso(context: CallContext) -> str:
    return context.received_at.isoformat().replace("+00:00", "Z")


async def boot_notification(context: CallContext, payload: dict[str, Any]) -> Outcome:
    request = BootRequest(
        station_id=context.station_id,
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        serial_number=payload.get(
            "chargePointSerialNumber", payload.get("chargeBoxSerialNumber", "")
        ),
        firmware_version=payload.get("firmwareVersion", ""),
        reason="",
        ocpp_version=context.station.version.to_proto(),
        security_profile=context.station.security_profile,
    )
    decision = await context.decisions.boot(request)
    event = station_events.StationBooted(
        vendor=request.vendor,
        model=request.model,
        serial_number=request.serial_number,
        firmware_version=request.firmware_version,
        iccid=payload.get("iccid", ""),
        imsi=payload.get("imsi", ""),
        meter_type=payload.get("meterType", ""),
        meter_serial_number=payload.get("meterSerialNumber", ""),
        registration_status=decision.status,
        heartbeat_interval_s=decision.interval_s,
        ocpp_version=context.station.version.to_proto(),
    )
    response = {
        "status": decision.status,
        "currentTime": _iso(context),
        "interval": decision.interval_s,
    }
    return Outcome(response, [station_event("booted", event)])


async def heartbeat(context: CallContext, _payload: dict[str, Any]) -> Outcome:
    event = station_event("heartbeat", station_events.HeartbeatReceived())
    return Outcome({"currentTime": _iso(context)}, [event])


async def status_notification(context: CallContext, payload: dict[str, Any]) -> Outcome:
    connector = int(payload["connectorId"])
    event = station_events.StatusChanged(
        evse_id=connector,
        connector_id=connector,
        status=connector_status(payload["status"]),
        error_code=payload["errorCode"],
        info=payload.get("info", ""),
        vendor_id=payload.get("vendorId", ""),
        vendor_error_code=payload.get("vendorErrorCode", ""),
    )
    when = parse_time(payload.get("timestamp"), context.received_at)
    return Outcome({}, [station_event("status_changed", event, when)])


async def authorize(context: CallContext, payload: dict[str, Any]) -> Outcome:
    decision = await context.decisions.authorize(
        AuthRequest(context.station_id, payload["idTag"], ID_TAG)
    )
    info: dict[str, Any] = {"status": status_16(decision.status)}
    if decision.expiry is not None:
        info["expiryDate"] = decision.expiry.isoformat()
    if decision.group_id:
        info["parentIdTag"] = decision.group_id
    return Outcome(
        {"idTagInfo": info},
        [
            notification("Authorize", {**payload, **info}),
            token_authorized(payload["idTag"], ID_TAG, decision),
        ],
    )


async def data_transfer(_context: CallContext, payload: dict[str, Any]) -> Outcome:
    # No vendor extension is registered: the specification's answer for an unknown vendor.
    return Outcome({"status": "UnknownVendorId"}, [notification("DataTransfer", payload)])
