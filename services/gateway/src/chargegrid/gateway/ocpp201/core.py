"""2.x BootNotification, Heartbeat, StatusNotification, Authorize and DataTransfer."""

from __future__ import annotations

from typing import Any

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway.decisions import AuthDecision, AuthRequest, BootRequest
from chargegrid.gateway.events import notification, station_event, token_authorized
from chargegrid.gateway.normalize import connector_status, parse_time
from chargegrid.gateway.routing import CallContext, Outcome


def iso(context: CallContext) -> str:
    return context.received_at.isoformat().replace("+00:00", "Z")


def id_token_info(decision: AuthDecision) -> dict[str, Any]:
    info: dict[str, Any] = {"status": decision.status}
    if (until := decision.cache_expiry or decision.expiry) is not None:
        info["cacheExpiryDateTime"] = until.isoformat().replace("+00:00", "Z")
    if decision.group_id:
        info["groupIdToken"] = {"idToken": decision.group_id, "type": "Central"}
    if decision.language:
        info["language1"] = decision.language
    if decision.personal_message:
        message = {"format": "UTF8", "content": decision.personal_message}
        if decision.language:
            message["language"] = decision.language
        info["personalMessage"] = message
    return info


async def boot_notification(context: CallContext, payload: dict[str, Any]) -> Outcome:
    station = payload["chargingStation"]
    modem = station.get("modem", {})
    request = BootRequest(
        station_id=context.station_id,
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber", ""),
        firmware_version=station.get("firmwareVersion", ""),
        reason=payload["reason"],
        ocpp_version=context.station.version.to_proto(),
        security_profile=context.station.security_profile,
    )
    decision = await context.decisions.boot(request)
    event = station_events.StationBooted(
        vendor=request.vendor,
        model=request.model,
        serial_number=request.serial_number,
        firmware_version=request.firmware_version,
        reason=request.reason,
        iccid=modem.get("iccid", ""),
        imsi=modem.get("imsi", ""),
        registration_status=decision.status,
        heartbeat_interval_s=decision.interval_s,
        ocpp_version=context.station.version.to_proto(),
    )
    response = {
        "currentTime": iso(context),
        "interval": decision.interval_s,
        "status": decision.status,
    }
    return Outcome(response, [station_event("booted", event)])


async def heartbeat(context: CallContext, _payload: dict[str, Any]) -> Outcome:
    return Outcome(
        {"currentTime": iso(context)},
        [station_event("heartbeat", station_events.HeartbeatReceived())],
    )


async def status_notification(context: CallContext, payload: dict[str, Any]) -> Outcome:
    event = station_events.StatusChanged(
        evse_id=int(payload["evseId"]),
        connector_id=int(payload["connectorId"]),
        status=connector_status(payload["connectorStatus"]),
    )
    when = parse_time(payload.get("timestamp"), context.received_at)
    return Outcome({}, [station_event("status_changed", event, when)])


async def authorize(context: CallContext, payload: dict[str, Any]) -> Outcome:
    token = payload["idToken"]
    decision = await context.decisions.authorize(
        AuthRequest(context.station_id, token["idToken"], token["type"])
    )
    info = id_token_info(decision)
    return Outcome(
        {"idTokenInfo": info},
        [
            notification("Authorize", {**payload, "idTokenInfo": info}),
            token_authorized(token["idToken"], token["type"], decision),
        ],
    )


async def data_transfer(_context: CallContext, payload: dict[str, Any]) -> Outcome:
    # No vendor extension is registered: the specification's answer for an unknown vendor.
    return Outcome({"status": "UnknownVendorId"}, [notification("DataTransfer", payload)])
