"""StationControl commands as OCPP 1.6J CALLs (core profiles plus the security extension).

1.6 names a connector where 2.x names an EVSE, so the neutral `evse_id` is the 1.6
`connectorId` (a 1.6 station has one connector per EVSE) and `connector_id` is the fallback
when no EVSE is given. Signed firmware, security logs and certificate triggers use the
security extension (SignedUpdateFirmware, GetLog, ExtendedTriggerMessage). ChangeConfiguration
takes one key, so a SetConfiguration with several values is refused: the caller sends one
SetConfiguration per key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands import certificates
from chargegrid.gateway.commands.translation import InvalidCommand, Unsupported

Call = tuple[str, dict[str, Any]]

_PURPOSES = {
    pb.CHARGING_PROFILE_PURPOSE_STATION_MAX: "ChargePointMaxProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT: "TxDefaultProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX: "TxProfile",
}
_RESETS = {pb.RESET_KIND_SOFT: "Soft", pb.RESET_KIND_ON_IDLE: "Soft", pb.RESET_KIND_HARD: "Hard"}
_CORE_TRIGGERS = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)
#: Neutral message name -> (1.6 action, its requestedMessage).
_TRIGGERS: dict[str, tuple[str, str]] = {
    **{name: ("TriggerMessage", name) for name in _CORE_TRIGGERS},
    "LogStatusNotification": ("TriggerMessage", "DiagnosticsStatusNotification"),
    "SignChargingStationCertificate": ("ExtendedTriggerMessage", "SignChargePointCertificate"),
}
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class _Env:
    clock: Callable[[], datetime]


# -- shared pieces ---------------------------------------------------------------------------


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    """Optional OCPP fields are left out rather than sent as null."""
    return {key: value for key, value in fields.items() if value is not None}


def _time(message: Message, field: str) -> str | None:
    """An RFC 3339 UTC timestamp ("...Z"), or None when the field is unset."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return stamp.ToJsonString()


def _instant(when: datetime) -> str:
    stamp = Timestamp()
    stamp.FromDatetime(when.astimezone(UTC))
    return stamp.ToJsonString()


def _transaction_id(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise InvalidCommand(f"OCPP 1.6 transaction ids are integers, got {text!r}")
    return int(text)


def _connector(evse_id: int, connector_id: int) -> int:
    return evse_id or connector_id


def _schedule(profile: pb.ChargingProfile) -> dict[str, Any]:
    if not profile.HasField("schedule") or not profile.schedule.periods:
        raise InvalidCommand("a charging profile needs a schedule with at least one period")
    schedule = profile.schedule
    if not schedule.rate_unit:
        raise InvalidCommand("the charging schedule needs a rate_unit (W or A)")
    # 1.6 asks for limits in steps of 0.1.
    periods = [
        _compact(
            {
                "startPeriod": p.start_period_s,
                "limit": round(p.limit, 1),
                "numberPhases": p.number_phases or None,
            }
        )
        for p in schedule.periods
    ]
    return _compact(
        {
            "duration": schedule.duration_s or None,
            "startSchedule": _time(schedule, "start_schedule"),
            "chargingRateUnit": schedule.rate_unit,
            "chargingSchedulePeriod": periods,
            "minChargingRate": round(schedule.min_charging_rate, 1) or None,
        }
    )


def _profile(profile: pb.ChargingProfile) -> dict[str, Any]:
    if profile.purpose not in _PURPOSES:
        raise InvalidCommand("the charging profile needs a purpose")
    transaction = profile.transaction_id
    return _compact(
        {
            "chargingProfileId": profile.id,
            "transactionId": _transaction_id(transaction) if transaction else None,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": _PURPOSES[profile.purpose],
            "chargingProfileKind": profile.kind or "Absolute",
            "recurrencyKind": profile.recurrency or None,
            "validFrom": _time(profile, "valid_from"),
            "validTo": _time(profile, "valid_to"),
            "chargingSchedule": _schedule(profile),
        }
    )


def _start_profile(profile: pb.ChargingProfile) -> dict[str, Any]:
    """A remote start carries a TxProfile for the transaction it is about to start."""
    if profile.purpose not in (
        pb.CHARGING_PROFILE_PURPOSE_UNSPECIFIED,
        pb.CHARGING_PROFILE_PURPOSE_TX,
    ):
        raise InvalidCommand("a remote start's charging profile must be a TxProfile")
    if profile.transaction_id:
        raise InvalidCommand("a remote start's charging profile cannot name a transaction")
    tx_profile = pb.ChargingProfile()
    tx_profile.CopyFrom(profile)
    tx_profile.purpose = pb.CHARGING_PROFILE_PURPOSE_TX
    return _profile(tx_profile)


# -- requests --------------------------------------------------------------------------------


def start_charging(m: pb.StartChargingRequest, _: _Env) -> Call:
    if not m.id_token.id:
        raise InvalidCommand("id_token.id is required to start charging")
    profile = _start_profile(m.charging_profile) if m.HasField("charging_profile") else None
    return "RemoteStartTransaction", _compact(
        {"idTag": m.id_token.id, "connectorId": m.evse_id or None, "chargingProfile": profile}
    )


def stop_charging(m: pb.StopChargingRequest, _: _Env) -> Call:
    return "RemoteStopTransaction", {"transactionId": _transaction_id(m.transaction_id)}


def reset(m: pb.ResetRequest, _: _Env) -> Call:
    if m.evse_id:
        raise Unsupported("OCPP 1.6 resets the whole station, not one EVSE")
    if m.kind not in _RESETS:
        raise InvalidCommand("reset kind is required (SOFT, HARD or ON_IDLE)")
    return "Reset", {"type": _RESETS[m.kind]}


def unlock_connector(m: pb.UnlockConnectorRequest, _: _Env) -> Call:
    connector = _connector(m.evse_id, m.connector_id)
    if connector <= 0:
        raise InvalidCommand("unlocking needs a connector: evse_id or connector_id above 0")
    return "UnlockConnector", {"connectorId": connector}


def change_availability(m: pb.ChangeAvailabilityRequest, _: _Env) -> Call:
    kind = "Operative" if m.operative else "Inoperative"
    return "ChangeAvailability", {
        "connectorId": _connector(m.evse_id, m.connector_id),
        "type": kind,
    }


def get_configuration(m: pb.GetConfigurationRequest, _: _Env) -> Call:
    return "GetConfiguration", {"key": list(m.keys)} if m.keys else {}


def set_configuration(m: pb.SetConfigurationRequest, _: _Env) -> Call:
    if len(m.values) != 1:
        raise InvalidCommand(
            f"OCPP 1.6 changes one configuration key per call, got {len(m.values)}; "
            "send one SetConfiguration per key"
        )
    value = m.values[0]
    if not value.key:
        raise InvalidCommand("the configuration key is empty")
    return "ChangeConfiguration", {"key": value.key, "value": value.value}


def trigger_message(m: pb.TriggerMessageRequest, _: _Env) -> Call:
    if m.message not in _TRIGGERS:
        raise Unsupported(
            f"OCPP 1.6 cannot trigger {m.message or 'an unnamed message'!r}; "
            f"it can trigger {', '.join(sorted(_TRIGGERS))}"
        )
    action, requested = _TRIGGERS[m.message]
    connector = _connector(m.evse_id, m.connector_id)
    return action, _compact({"requestedMessage": requested, "connectorId": connector or None})


def update_firmware(m: pb.UpdateFirmwareRequest, env: _Env) -> Call:
    if not m.location:
        raise InvalidCommand("the firmware location is required")
    if bool(m.signing_certificate) != bool(m.signature):
        raise InvalidCommand("signed firmware needs both signing_certificate and signature")
    retrieve = _time(m, "retrieve_at") or _instant(env.clock())
    retries = {"retries": m.retries or None, "retryInterval": m.retry_interval_s or None}
    if m.signature:
        firmware = {
            "location": m.location,
            "retrieveDateTime": retrieve,
            "installDateTime": _time(m, "install_at"),
            "signingCertificate": m.signing_certificate,
            "signature": m.signature,
        }
        return "SignedUpdateFirmware", _compact(
            {"requestId": m.request_id, "firmware": _compact(firmware), **retries}
        )
    if m.HasField("install_at"):
        raise Unsupported("OCPP 1.6 UpdateFirmware has no install time (signed firmware has)")
    return "UpdateFirmware", _compact({"location": m.location, "retrieveDate": retrieve, **retries})


def get_logs(m: pb.GetLogsRequest, _: _Env) -> Call:
    if not m.location:
        raise InvalidCommand("an upload location is required")
    oldest, latest = _time(m, "oldest"), _time(m, "latest")
    retries = {"retries": m.retries or None, "retryInterval": m.retry_interval_s or None}
    if m.kind in ("", "diagnostics"):
        return "GetDiagnostics", _compact(
            {"location": m.location, "startTime": oldest, "stopTime": latest, **retries}
        )
    if m.kind == "security":
        log = {"remoteLocation": m.location, "oldestTimestamp": oldest, "latestTimestamp": latest}
        return "GetLog", _compact(
            {"logType": "SecurityLog", "requestId": m.request_id, "log": _compact(log), **retries}
        )
    raise InvalidCommand(f"log kind must be 'diagnostics' or 'security', got {m.kind!r}")


def set_charging_profile(m: pb.SetChargingProfileRequest, _: _Env) -> Call:
    if not m.HasField("profile"):
        raise InvalidCommand("a charging profile is required")
    return "SetChargingProfile", {
        "connectorId": m.evse_id,
        "csChargingProfiles": _profile(m.profile),
    }


def clear_charging_profile(m: pb.ClearChargingProfileRequest, _: _Env) -> Call:
    return "ClearChargingProfile", _compact(
        {
            "id": m.profile_id or None,
            "connectorId": m.evse_id or None,
            "chargingProfilePurpose": _PURPOSES.get(m.purpose),
            "stackLevel": m.stack_level or None,
        }
    )


def get_composite_schedule(m: pb.GetCompositeScheduleRequest, _: _Env) -> Call:
    if m.duration_s <= 0:
        raise InvalidCommand("duration_s must be positive")
    return "GetCompositeSchedule", _compact(
        {
            "connectorId": m.evse_id,
            "duration": m.duration_s,
            "chargingRateUnit": m.rate_unit or None,
        }
    )


def _authorization(entry: pb.LocalAuthorization, update_type: str) -> dict[str, Any]:
    if not entry.id_token.id:
        raise InvalidCommand("every local list entry needs id_token.id")
    if not entry.status:
        if update_type == "Full":
            raise InvalidCommand(f"entry {entry.id_token.id!r} has no status in a Full update")
        return {"idTag": entry.id_token.id}  # without idTagInfo: removed from the list
    info = {
        "status": entry.status,
        "expiryDate": _time(entry, "expiry"),
        "parentIdTag": entry.parent_id or None,
    }
    return {"idTag": entry.id_token.id, "idTagInfo": _compact(info)}


def send_local_list(m: pb.SendLocalListRequest, _: _Env) -> Call:
    if m.update_type not in ("Full", "Differential"):
        raise InvalidCommand(f"update_type must be Full or Differential, got {m.update_type!r}")
    entries = [_authorization(entry, m.update_type) for entry in m.entries]
    return "SendLocalList", _compact(
        {
            "listVersion": m.version,
            "updateType": m.update_type,
            "localAuthorizationList": entries or None,
        }
    )


def get_local_list_version(_m: pb.GetLocalListVersionRequest, _: _Env) -> Call:
    return "GetLocalListVersion", {}


def reserve_now(m: pb.ReserveNowRequest, _: _Env) -> Call:
    expiry = _time(m, "expiry")
    if not m.id_token.id or expiry is None:
        raise InvalidCommand("a reservation needs id_token.id and expiry")
    return "ReserveNow", _compact(
        {
            "connectorId": _connector(m.evse_id, m.connector_id),
            "expiryDate": expiry,
            "idTag": m.id_token.id,
            "reservationId": m.reservation_id,
            "parentIdTag": m.parent_id or None,
        }
    )


def cancel_reservation(m: pb.CancelReservationRequest, _: _Env) -> Call:
    return "CancelReservation", {"reservationId": m.reservation_id}


def clear_cache(_m: pb.ClearCacheRequest, _: _Env) -> Call:
    return "ClearCache", {}


def data_transfer(m: pb.DataTransferRequest, _: _Env) -> Call:
    if not m.vendor_id:
        raise InvalidCommand("vendor_id is required")
    return "DataTransfer", _compact(
        {"vendorId": m.vendor_id, "messageId": m.message_id or None, "data": m.data or None}
    )


# -- replies ---------------------------------------------------------------------------------


def _json(payload: Any) -> str:
    return orjson.dumps(payload).decode()


def _parsed(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def status_reply(_m: Message, payload: dict[str, Any]) -> pb.CommandReply:
    reason = payload.get("statusInfo", {}).get("reasonCode", "")
    return pb.CommandReply(
        status=payload["status"], status_reason=reason, payload_json=_json(payload)
    )


def firmware_reply(m: pb.UpdateFirmwareRequest, payload: dict[str, Any]) -> pb.CommandReply:
    if m.signature:
        return status_reply(m, payload)
    # UpdateFirmware.conf is empty: answering at all is how a 1.6 station accepts.
    return pb.CommandReply(status="Accepted", payload_json=_json(payload))


def configuration_reply(_m: Message, payload: dict[str, Any]) -> pb.GetConfigurationReply:
    values = [
        pb.ConfigurationValue(
            key=item["key"], value=item.get("value", ""), readonly=item["readonly"]
        )
        for item in payload.get("configurationKey", [])
    ]
    return pb.GetConfigurationReply(values=values, unknown_keys=payload.get("unknownKey", []))


def set_configuration_reply(
    m: pb.SetConfigurationRequest, payload: dict[str, Any]
) -> pb.SetConfigurationReply:
    result = pb.SetConfigurationResult(key=m.values[0].key, status=payload["status"])
    return pb.SetConfigurationReply(results=[result])


def logs_reply(m: pb.GetLogsRequest, payload: dict[str, Any]) -> pb.GetLogsReply:
    if m.kind == "security":
        file_name = payload.get("filename", "")
        return pb.GetLogsReply(
            status=payload["status"], file_name=file_name, payload_json=_json(payload)
        )
    # GetDiagnostics has no status: a station with nothing to upload leaves out fileName.
    file_name = payload.get("fileName", "")
    status = "Accepted" if file_name else "Rejected"
    return pb.GetLogsReply(status=status, file_name=file_name, payload_json=_json(payload))


def _schedule_message(schedule: dict[str, Any], start: str | None) -> pb.ChargingSchedule:
    periods = [
        pb.ChargingSchedulePeriod(
            start_period_s=p["startPeriod"],
            limit=p["limit"],
            number_phases=p.get("numberPhases", 0),
        )
        for p in schedule["chargingSchedulePeriod"]
    ]
    message = pb.ChargingSchedule(
        duration_s=schedule.get("duration", 0),
        rate_unit=schedule["chargingRateUnit"],
        periods=periods,
        min_charging_rate=schedule.get("minChargingRate", 0.0),
    )
    started = _parsed(start) if start else None
    if started is not None:
        message.start_schedule.FromDatetime(started)
    return message


def composite_schedule_reply(_m: Message, payload: dict[str, Any]) -> pb.GetCompositeScheduleReply:
    reply = pb.GetCompositeScheduleReply(status=payload["status"], payload_json=_json(payload))
    schedule = payload.get("chargingSchedule")
    if schedule:
        start = schedule.get("startSchedule") or payload.get("scheduleStart")
        reply.schedule.CopyFrom(_schedule_message(schedule, start))
    return reply


def local_list_version_reply(_m: Message, payload: dict[str, Any]) -> pb.GetLocalListVersionReply:
    return pb.GetLocalListVersionReply(version=payload["listVersion"])


def data_transfer_reply(_m: Message, payload: dict[str, Any]) -> pb.DataTransferReply:
    data = payload.get("data", "")
    return pb.DataTransferReply(
        status=payload["status"], data=data if isinstance(data, str) else _json(data)
    )


REQUESTS: dict[str, Callable[[Any, _Env], Call]] = {
    "StartCharging": start_charging,
    "StopCharging": stop_charging,
    "Reset": reset,
    "UnlockConnector": unlock_connector,
    "ChangeAvailability": change_availability,
    "GetConfiguration": get_configuration,
    "SetConfiguration": set_configuration,
    "TriggerMessage": trigger_message,
    "UpdateFirmware": update_firmware,
    "GetLogs": get_logs,
    "SetChargingProfile": set_charging_profile,
    "ClearChargingProfile": clear_charging_profile,
    "GetCompositeSchedule": get_composite_schedule,
    "SendLocalList": send_local_list,
    "GetLocalListVersion": get_local_list_version,
    "ReserveNow": reserve_now,
    "CancelReservation": cancel_reservation,
    "ClearCache": clear_cache,
    "DataTransfer": data_transfer,
    **certificates.REQUESTS_16,
}
REPLIES: dict[str, Callable[[Any, dict[str, Any]], Message]] = {
    **dict.fromkeys(REQUESTS, status_reply),
    "GetConfiguration": configuration_reply,
    "SetConfiguration": set_configuration_reply,
    "UpdateFirmware": firmware_reply,
    "GetLogs": logs_reply,
    "GetCompositeSchedule": composite_schedule_reply,
    "GetLocalListVersion": local_list_version_reply,
    "DataTransfer": data_transfer_reply,
    **certificates.REPLIES_16,
}


class Ocpp16Translator:
    """The `Translator` for OCPP 1.6J stations. `clock` dates a firmware retrieval the
    request leaves open ("now")."""

    def __init__(self, *, clock: Callable[[], datetime]) -> None:
        self._env = _Env(clock=clock)

    def request(self, method: str, message: Message) -> Call:
        if method not in REQUESTS:
            raise Unsupported(f"no OCPP 1.6 translation for {method}")
        return REQUESTS[method](message, self._env)

    def reply(self, method: str, message: Message, payload: dict[str, Any]) -> Message:
        if method not in REPLIES:
            raise Unsupported(f"no OCPP 1.6 translation for {method}")
        return REPLIES[method](message, payload)
