"""StationControl commands as OCPP 2.0.1 and 2.1 CALLs.

Configuration is the device model: a neutral key "Component[.instance]/Variable[.instance]"
is one GetVariables/SetVariables entry, and SetVariables takes many at once. The station
correlates remote starts by `remoteStartId`; when the request brings none, one comes from the
injected id source. 2.x tokens are typed and a station matches the type, so reservations and
local list entries must say which type their token is; a remote start's token defaults to
Central and a group id (`parent_id`) is always sent as a Central token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands import certificates, display2x, monitoring2x
from chargegrid.gateway.commands.device_keys import key_of as _key
from chargegrid.gateway.commands.device_keys import variable_of as _variable
from chargegrid.gateway.commands.translation import InvalidCommand, Unsupported
from chargegrid.gateway.protocol.versions import OcppVersion

Call = tuple[str, dict[str, Any]]

_PURPOSES = {
    pb.CHARGING_PROFILE_PURPOSE_STATION_MAX: "ChargingStationMaxProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT: "TxDefaultProfile",
    pb.CHARGING_PROFILE_PURPOSE_TX: "TxProfile",
}
_RESETS = {
    pb.RESET_KIND_SOFT: "OnIdle",
    pb.RESET_KIND_ON_IDLE: "OnIdle",
    pb.RESET_KIND_HARD: "Immediate",
}
_LOG_TYPES = {"": "DiagnosticsLog", "diagnostics": "DiagnosticsLog", "security": "SecurityLog"}
_TRIGGERS_201 = frozenset(
    {
        "BootNotification",
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "SignChargingStationCertificate",
        "SignV2GCertificate",
        "StatusNotification",
        "TransactionEvent",
        "SignCombinedCertificate",
        "PublishFirmwareStatusNotification",
    }
)
_TRIGGERS = {
    OcppVersion.V201: _TRIGGERS_201,
    OcppVersion.V21: _TRIGGERS_201 | {"SignV2G20Certificate"},
}
#: 1.6 names a neutral caller may still use.
_TRIGGER_ALIASES = {"DiagnosticsStatusNotification": "LogStatusNotification"}
_UNKNOWN = ("UnknownComponent", "UnknownVariable")
_EPOCH_2024 = datetime(2024, 1, 1, tzinfo=UTC)


class ClockIds:
    """Positive, increasing ids from the clock (tenths of a second since 2024, within int32
    until 2030): the default remoteStartId source when the composition root injects none."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._last = 0

    def __call__(self) -> int:
        tenths = int((self._clock() - _EPOCH_2024).total_seconds() * 10)
        self._last = max(tenths, self._last + 1) & 0x7FFFFFFF or 1
        return self._last


@dataclass(frozen=True)
class _Env:
    version: OcppVersion
    clock: Callable[[], datetime]
    remote_start_ids: Callable[[], int]


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


def _id_token(token: pb.IdToken, default_type: str = "") -> dict[str, Any]:
    if not token.id:
        raise InvalidCommand("id_token.id is required")
    kind = token.type or default_type
    if not kind:
        raise InvalidCommand(f"id_token {token.id!r} needs a type on OCPP 2.x (e.g. ISO14443)")
    return {"idToken": token.id, "type": kind}


def _group(parent_id: str) -> dict[str, Any] | None:
    return {"idToken": parent_id, "type": "Central"} if parent_id else None


def _evse(evse_id: int, connector_id: int) -> dict[str, Any] | None:
    if evse_id <= 0:
        if connector_id:
            raise InvalidCommand("a connector_id needs its evse_id on OCPP 2.x")
        return None
    return _compact({"id": evse_id, "connectorId": connector_id or None})


def _profile(profile: pb.ChargingProfile) -> dict[str, Any]:
    if profile.purpose not in _PURPOSES:
        raise InvalidCommand("the charging profile needs a purpose")
    if not profile.HasField("schedule") or not profile.schedule.periods:
        raise InvalidCommand("a charging profile needs a schedule with at least one period")
    schedule = profile.schedule
    if not schedule.rate_unit:
        raise InvalidCommand("the charging schedule needs a rate_unit (W or A)")
    periods = [
        _compact(
            {
                "startPeriod": p.start_period_s,
                "limit": p.limit,
                "numberPhases": p.number_phases or None,
            }
        )
        for p in schedule.periods
    ]
    charging_schedule = {
        "id": schedule.id,
        "startSchedule": _time(schedule, "start_schedule"),
        "duration": schedule.duration_s or None,
        "chargingRateUnit": schedule.rate_unit,
        "chargingSchedulePeriod": periods,
        "minChargingRate": schedule.min_charging_rate or None,
    }
    return _compact(
        {
            "id": profile.id,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": _PURPOSES[profile.purpose],
            "chargingProfileKind": profile.kind or "Absolute",
            "recurrencyKind": profile.recurrency or None,
            "validFrom": _time(profile, "valid_from"),
            "validTo": _time(profile, "valid_to"),
            "transactionId": profile.transaction_id or None,
            "chargingSchedule": [_compact(charging_schedule)],
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


def start_charging(m: pb.StartChargingRequest, env: _Env) -> Call:
    profile = _start_profile(m.charging_profile) if m.HasField("charging_profile") else None
    return "RequestStartTransaction", _compact(
        {
            "idToken": _id_token(m.id_token, default_type="Central"),
            "remoteStartId": m.remote_start_id or env.remote_start_ids(),
            "evseId": m.evse_id or None,
            "chargingProfile": profile,
        }
    )


def stop_charging(m: pb.StopChargingRequest, _: _Env) -> Call:
    if not m.transaction_id:
        raise InvalidCommand("transaction_id is required to stop charging")
    return "RequestStopTransaction", {"transactionId": m.transaction_id}


def reset(m: pb.ResetRequest, _: _Env) -> Call:
    if m.kind not in _RESETS:
        raise InvalidCommand("reset kind is required (SOFT, HARD or ON_IDLE)")
    return "Reset", _compact({"type": _RESETS[m.kind], "evseId": m.evse_id or None})


def unlock_connector(m: pb.UnlockConnectorRequest, _: _Env) -> Call:
    if m.evse_id <= 0 or m.connector_id <= 0:
        raise InvalidCommand("unlocking on OCPP 2.x needs both evse_id and connector_id above 0")
    return "UnlockConnector", {"evseId": m.evse_id, "connectorId": m.connector_id}


def change_availability(m: pb.ChangeAvailabilityRequest, _: _Env) -> Call:
    status = "Operative" if m.operative else "Inoperative"
    return "ChangeAvailability", _compact(
        {"operationalStatus": status, "evse": _evse(m.evse_id, m.connector_id)}
    )


def get_configuration(m: pb.GetConfigurationRequest, _: _Env) -> Call:
    if not m.keys:
        raise InvalidCommand(
            "OCPP 2.x needs explicit variables ('Component/Variable', e.g. "
            "'OCPPCommCtrlr/HeartbeatInterval'); `chargegrid ops get-config` without --key "
            "reads the well-known ones, a full report is GetBaseReport through the "
            "StationControl.Call RPC"
        )
    return "GetVariables", {"getVariableData": [_variable(key) for key in m.keys]}


def set_configuration(m: pb.SetConfigurationRequest, _: _Env) -> Call:
    if not m.values:
        raise InvalidCommand("at least one configuration value is required")
    data = [
        _compact(
            {
                **_variable(value.key),
                "attributeValue": value.value,
                "attributeType": value.attribute_type or None,
            }
        )
        for value in m.values
    ]
    return "SetVariables", {"setVariableData": data}


def trigger_message(m: pb.TriggerMessageRequest, env: _Env) -> Call:
    requested = _TRIGGER_ALIASES.get(m.message, m.message)
    if requested not in _TRIGGERS[env.version]:
        raise Unsupported(
            f"OCPP {env.version} cannot trigger {m.message or 'an unnamed message'!r}; "
            f"it can trigger {', '.join(sorted(_TRIGGERS[env.version]))}"
        )
    return "TriggerMessage", _compact(
        {"requestedMessage": requested, "evse": _evse(m.evse_id, m.connector_id)}
    )


def update_firmware(m: pb.UpdateFirmwareRequest, env: _Env) -> Call:
    if not m.location:
        raise InvalidCommand("the firmware location is required")
    if m.signing_certificate and not m.signature:
        raise InvalidCommand("a signing_certificate comes with the firmware's signature")
    firmware = {
        "location": m.location,
        "retrieveDateTime": _time(m, "retrieve_at") or _instant(env.clock()),
        "installDateTime": _time(m, "install_at"),
        "signingCertificate": m.signing_certificate or None,
        "signature": m.signature or None,
    }
    return "UpdateFirmware", _compact(
        {
            "requestId": m.request_id,
            "retries": m.retries or None,
            "retryInterval": m.retry_interval_s or None,
            "firmware": _compact(firmware),
        }
    )


def get_logs(m: pb.GetLogsRequest, _: _Env) -> Call:
    if not m.location:
        raise InvalidCommand("an upload location is required")
    if m.kind not in _LOG_TYPES:
        raise InvalidCommand(f"log kind must be 'diagnostics' or 'security', got {m.kind!r}")
    log = {
        "remoteLocation": m.location,
        "oldestTimestamp": _time(m, "oldest"),
        "latestTimestamp": _time(m, "latest"),
    }
    return "GetLog", _compact(
        {
            "logType": _LOG_TYPES[m.kind],
            "requestId": m.request_id,
            "retries": m.retries or None,
            "retryInterval": m.retry_interval_s or None,
            "log": _compact(log),
        }
    )


def set_charging_profile(m: pb.SetChargingProfileRequest, _: _Env) -> Call:
    if not m.HasField("profile"):
        raise InvalidCommand("a charging profile is required")
    return "SetChargingProfile", {"evseId": m.evse_id, "chargingProfile": _profile(m.profile)}


def clear_charging_profile(m: pb.ClearChargingProfileRequest, _: _Env) -> Call:
    criteria = _compact(
        {
            "evseId": m.evse_id or None,
            "chargingProfilePurpose": _PURPOSES.get(m.purpose),
            "stackLevel": m.stack_level or None,
        }
    )
    return "ClearChargingProfile", _compact(
        {"chargingProfileId": m.profile_id or None, "chargingProfileCriteria": criteria or None}
    )


def get_composite_schedule(m: pb.GetCompositeScheduleRequest, _: _Env) -> Call:
    if m.duration_s <= 0:
        raise InvalidCommand("duration_s must be positive")
    return "GetCompositeSchedule", _compact(
        {"duration": m.duration_s, "evseId": m.evse_id, "chargingRateUnit": m.rate_unit or None}
    )


def _authorization(entry: pb.LocalAuthorization, update_type: str) -> dict[str, Any]:
    token = _id_token(entry.id_token)
    if not entry.status:
        if update_type == "Full":
            raise InvalidCommand(f"entry {entry.id_token.id!r} has no status in a Full update")
        return {"idToken": token}  # without idTokenInfo: removed from the list
    info = {
        "status": entry.status,
        "cacheExpiryDateTime": _time(entry, "expiry"),
        "groupIdToken": _group(entry.parent_id),
    }
    return {"idToken": token, "idTokenInfo": _compact(info)}


def send_local_list(m: pb.SendLocalListRequest, _: _Env) -> Call:
    if m.update_type not in ("Full", "Differential"):
        raise InvalidCommand(f"update_type must be Full or Differential, got {m.update_type!r}")
    entries = [_authorization(entry, m.update_type) for entry in m.entries]
    return "SendLocalList", _compact(
        {
            "versionNumber": m.version,
            "updateType": m.update_type,
            "localAuthorizationList": entries or None,
        }
    )


def get_local_list_version(_m: pb.GetLocalListVersionRequest, _: _Env) -> Call:
    return "GetLocalListVersion", {}


def reserve_now(m: pb.ReserveNowRequest, _: _Env) -> Call:
    expiry = _time(m, "expiry")
    if expiry is None:
        raise InvalidCommand("a reservation needs an expiry")
    if m.connector_id and not m.evse_id:
        raise InvalidCommand("OCPP 2.x reserves an EVSE: give evse_id, not connector_id")
    return "ReserveNow", _compact(
        {
            "id": m.reservation_id,
            "expiryDateTime": expiry,
            "idToken": _id_token(m.id_token),
            "evseId": m.evse_id or None,
            "groupIdToken": _group(m.parent_id),
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


def variables_reply(_m: Message, payload: dict[str, Any]) -> pb.GetConfigurationReply:
    """Accepted results carry a value; any other status means the station gave none."""
    reply = pb.GetConfigurationReply()
    for result in payload["getVariableResult"]:
        if result["attributeStatus"] == "Accepted":
            reply.values.add(
                key=_key(result),
                value=result.get("attributeValue", ""),
                attribute_type=result.get("attributeType", ""),
            )
        else:
            reply.unknown_keys.append(_key(result))
    return reply


def set_variables_reply(_m: Message, payload: dict[str, Any]) -> pb.SetConfigurationReply:
    results = [
        pb.SetConfigurationResult(key=_key(result), status=result["attributeStatus"])
        for result in payload["setVariableResult"]
    ]
    return pb.SetConfigurationReply(results=results)


def logs_reply(_m: Message, payload: dict[str, Any]) -> pb.GetLogsReply:
    file_name = payload.get("filename", "")
    return pb.GetLogsReply(
        status=payload["status"], file_name=file_name, payload_json=_json(payload)
    )


def _schedule_message(schedule: dict[str, Any]) -> pb.ChargingSchedule:
    periods = [
        pb.ChargingSchedulePeriod(
            start_period_s=p["startPeriod"],
            limit=p.get("limit", 0.0),
            number_phases=p.get("numberPhases", 0),
        )
        for p in schedule["chargingSchedulePeriod"]
    ]
    message = pb.ChargingSchedule(
        duration_s=schedule["duration"], rate_unit=schedule["chargingRateUnit"], periods=periods
    )
    started = _parsed(schedule["scheduleStart"])
    if started is not None:
        message.start_schedule.FromDatetime(started)
    return message


def composite_schedule_reply(_m: Message, payload: dict[str, Any]) -> pb.GetCompositeScheduleReply:
    reply = pb.GetCompositeScheduleReply(status=payload["status"], payload_json=_json(payload))
    if payload.get("schedule"):
        reply.schedule.CopyFrom(_schedule_message(payload["schedule"]))
    return reply


def local_list_version_reply(_m: Message, payload: dict[str, Any]) -> pb.GetLocalListVersionReply:
    return pb.GetLocalListVersionReply(version=payload["versionNumber"])


def data_transfer_reply(_m: Message, payload: dict[str, Any]) -> pb.DataTransferReply:
    # 2.x data may be any JSON value; the typed reply carries it as text.
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
    **display2x.REQUESTS,
    **monitoring2x.REQUESTS,
    **certificates.REQUESTS_2X,
}
REPLIES: dict[str, Callable[[Any, dict[str, Any]], Message]] = {
    **dict.fromkeys(REQUESTS, status_reply),
    "GetConfiguration": variables_reply,
    "SetConfiguration": set_variables_reply,
    "GetLogs": logs_reply,
    "GetCompositeSchedule": composite_schedule_reply,
    "GetLocalListVersion": local_list_version_reply,
    "DataTransfer": data_transfer_reply,
    **monitoring2x.REPLIES,
    **certificates.REPLIES_2X,
}


class Ocpp2xTranslator:
    """The `Translator` for OCPP 2.0.1 and 2.1 stations. `clock` dates a firmware retrieval
    the request leaves open ("now"); `remote_start_ids` numbers remote starts that bring no
    remoteStartId (default: `ClockIds` on the same clock)."""

    def __init__(
        self,
        version: OcppVersion,
        *,
        clock: Callable[[], datetime],
        remote_start_ids: Callable[[], int] | None = None,
    ) -> None:
        if version not in _TRIGGERS:
            raise ValueError(f"Ocpp2xTranslator speaks OCPP 2.0.1 and 2.1, not {version}")
        self.version = version
        self._env = _Env(version, clock, remote_start_ids or ClockIds(clock))

    def request(self, method: str, message: Message) -> Call:
        if method not in REQUESTS:
            raise Unsupported(f"no OCPP {self.version} translation for {method}")
        return REQUESTS[method](message, self._env)

    def reply(self, method: str, message: Message, payload: dict[str, Any]) -> Message:
        if method not in REPLIES:
            raise Unsupported(f"no OCPP {self.version} translation for {method}")
        return REPLIES[method](message, payload)
