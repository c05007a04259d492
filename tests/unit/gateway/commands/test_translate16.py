"""OCPP 1.6J: every typed command becomes a CALL the official schema accepts, and every
CALLRESULT becomes the typed reply."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.translate16 import Ocpp16Translator
from chargegrid.gateway.commands.translation import InvalidCommand, Unsupported
from chargegrid.gateway.protocol.versions import OcppVersion

from .builders import NOW, NOW_TEXT, a_charging_profile, a_token, answered, sent, stamp

V16 = OcppVersion.V16


@pytest.fixture
def translator() -> Ocpp16Translator:
    return Ocpp16Translator(clock=lambda: NOW)


def call(translator: Ocpp16Translator, method: str, message: Any) -> tuple[str, dict[str, Any]]:
    return sent(translator, V16, method, message)


def reply(translator: Ocpp16Translator, method: str, message: Any, payload: dict[str, Any]) -> Any:
    return answered(translator, V16, method, message, payload)


# -- charging ---------------------------------------------------------------------------------


def test_a_remote_start_names_the_tag_the_connector_and_a_tx_profile(
    translator: Ocpp16Translator,
) -> None:
    profile = a_charging_profile(purpose=pb.CHARGING_PROFILE_PURPOSE_UNSPECIFIED)
    request = pb.StartChargingRequest(
        station_id="CP1", id_token=a_token("TAG-7"), evse_id=2, charging_profile=profile
    )
    action, payload = call(translator, "StartCharging", request)
    assert action == "RemoteStartTransaction"
    assert payload["idTag"] == "TAG-7"
    assert payload["connectorId"] == 2
    assert payload["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"
    assert payload["chargingProfile"]["chargingProfileId"] == 12


def test_a_remote_start_without_an_evse_lets_the_station_choose(
    translator: Ocpp16Translator,
) -> None:
    request = pb.StartChargingRequest(station_id="CP1", id_token=a_token("TAG-7"))
    _, payload = call(translator, "StartCharging", request)
    assert payload == {"idTag": "TAG-7"}


def test_a_remote_start_refuses_a_profile_meant_for_something_else(
    translator: Ocpp16Translator,
) -> None:
    request = pb.StartChargingRequest(
        station_id="CP1", id_token=a_token(), charging_profile=a_charging_profile()
    )
    with pytest.raises(InvalidCommand, match="must be a TxProfile"):
        translator.request("StartCharging", request)


def test_a_remote_start_without_a_token_is_invalid(translator: Ocpp16Translator) -> None:
    with pytest.raises(InvalidCommand, match=r"id_token\.id is required"):
        translator.request("StartCharging", pb.StartChargingRequest(station_id="CP1"))


def test_a_remote_start_answer_becomes_a_command_reply(translator: Ocpp16Translator) -> None:
    request = pb.StartChargingRequest(station_id="CP1", id_token=a_token())
    answer = reply(translator, "StartCharging", request, {"status": "Rejected"})
    assert answer == pb.CommandReply(status="Rejected", payload_json='{"status":"Rejected"}')


def test_a_remote_stop_sends_the_transaction_id_as_a_number(translator: Ocpp16Translator) -> None:
    request = pb.StopChargingRequest(station_id="CP1", transaction_id="4711")
    assert call(translator, "StopCharging", request) == (
        "RemoteStopTransaction",
        {"transactionId": 4711},
    )


@pytest.mark.parametrize("transaction_id", ["abc", "", "12.5", "0x10"])
def test_a_transaction_id_that_is_not_an_integer_is_invalid(
    translator: Ocpp16Translator, transaction_id: str
) -> None:
    request = pb.StopChargingRequest(station_id="CP1", transaction_id=transaction_id)
    with pytest.raises(InvalidCommand, match="transaction ids are integers"):
        translator.request("StopCharging", request)


# -- station operations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(pb.RESET_KIND_SOFT, "Soft"), (pb.RESET_KIND_ON_IDLE, "Soft"), (pb.RESET_KIND_HARD, "Hard")],
)
def test_resets_are_soft_unless_hard_is_asked_for(
    translator: Ocpp16Translator, kind: pb.ResetKind.ValueType, expected: str
) -> None:
    request = pb.ResetRequest(station_id="CP1", kind=kind)
    assert call(translator, "Reset", request) == ("Reset", {"type": expected})
    answer = reply(translator, "Reset", request, {"status": "Accepted"})
    assert answer.status == "Accepted"


def test_resetting_a_single_evse_is_unsupported(translator: Ocpp16Translator) -> None:
    request = pb.ResetRequest(station_id="CP1", kind=pb.RESET_KIND_HARD, evse_id=1)
    with pytest.raises(Unsupported, match="whole station"):
        translator.request("Reset", request)


def test_a_reset_without_a_kind_is_invalid(translator: Ocpp16Translator) -> None:
    with pytest.raises(InvalidCommand, match="reset kind is required"):
        translator.request("Reset", pb.ResetRequest(station_id="CP1"))


@pytest.mark.parametrize(("evse_id", "connector_id", "expected"), [(2, 0, 2), (0, 3, 3), (2, 1, 2)])
def test_unlocking_names_the_evse_as_the_connector(
    translator: Ocpp16Translator, evse_id: int, connector_id: int, expected: int
) -> None:
    request = pb.UnlockConnectorRequest(
        station_id="CP1", evse_id=evse_id, connector_id=connector_id
    )
    assert call(translator, "UnlockConnector", request) == (
        "UnlockConnector",
        {"connectorId": expected},
    )
    assert (
        reply(translator, "UnlockConnector", request, {"status": "Unlocked"}).status == "Unlocked"
    )


def test_unlocking_without_a_connector_is_invalid(translator: Ocpp16Translator) -> None:
    with pytest.raises(InvalidCommand, match="needs a connector"):
        translator.request("UnlockConnector", pb.UnlockConnectorRequest(station_id="CP1"))


def test_availability_of_the_whole_station_is_connector_zero(translator: Ocpp16Translator) -> None:
    request = pb.ChangeAvailabilityRequest(station_id="CP1", operative=False)
    assert call(translator, "ChangeAvailability", request) == (
        "ChangeAvailability",
        {"connectorId": 0, "type": "Inoperative"},
    )
    answer = reply(translator, "ChangeAvailability", request, {"status": "Scheduled"})
    assert answer.status == "Scheduled"


def test_availability_of_one_evse_names_its_connector(translator: Ocpp16Translator) -> None:
    request = pb.ChangeAvailabilityRequest(station_id="CP1", evse_id=1, operative=True)
    _, payload = call(translator, "ChangeAvailability", request)
    assert payload == {"connectorId": 1, "type": "Operative"}


# -- configuration ----------------------------------------------------------------------------


def test_reading_named_keys_asks_for_exactly_those(translator: Ocpp16Translator) -> None:
    request = pb.GetConfigurationRequest(station_id="CP1", keys=["HeartbeatInterval", "Nope"])
    assert call(translator, "GetConfiguration", request) == (
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "Nope"]},
    )


def test_reading_no_keys_asks_for_everything(translator: Ocpp16Translator) -> None:
    request = pb.GetConfigurationRequest(station_id="CP1")
    assert call(translator, "GetConfiguration", request) == ("GetConfiguration", {})


def test_configuration_keys_come_back_with_values_and_unknown_keys(
    translator: Ocpp16Translator,
) -> None:
    payload = {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            {"key": "AuthorizationKey", "readonly": False},
        ],
        "unknownKey": ["Nope"],
    }
    answer = reply(translator, "GetConfiguration", pb.GetConfigurationRequest(), payload)
    assert [(v.key, v.value, v.readonly) for v in answer.values] == [
        ("HeartbeatInterval", "300", False),
        ("NumberOfConnectors", "2", True),
        ("AuthorizationKey", "", False),
    ]
    assert list(answer.unknown_keys) == ["Nope"]


def test_setting_one_key_is_a_change_configuration(translator: Ocpp16Translator) -> None:
    request = pb.SetConfigurationRequest(
        station_id="CP1", values=[pb.ConfigurationValue(key="HeartbeatInterval", value="60")]
    )
    assert call(translator, "SetConfiguration", request) == (
        "ChangeConfiguration",
        {"key": "HeartbeatInterval", "value": "60"},
    )
    answer = reply(translator, "SetConfiguration", request, {"status": "RebootRequired"})
    assert answer == pb.SetConfigurationReply(
        results=[pb.SetConfigurationResult(key="HeartbeatInterval", status="RebootRequired")]
    )


@pytest.mark.parametrize("count", [0, 2])
def test_setting_other_than_one_key_per_call_is_invalid(
    translator: Ocpp16Translator, count: int
) -> None:
    values = [pb.ConfigurationValue(key=f"Key{i}", value="1") for i in range(count)]
    request = pb.SetConfigurationRequest(station_id="CP1", values=values)
    with pytest.raises(InvalidCommand, match=f"one configuration key per call, got {count}"):
        translator.request("SetConfiguration", request)


# -- triggers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("neutral", "action", "requested"),
    [
        ("BootNotification", "TriggerMessage", "BootNotification"),
        ("Heartbeat", "TriggerMessage", "Heartbeat"),
        ("StatusNotification", "TriggerMessage", "StatusNotification"),
        ("MeterValues", "TriggerMessage", "MeterValues"),
        ("FirmwareStatusNotification", "TriggerMessage", "FirmwareStatusNotification"),
        ("LogStatusNotification", "TriggerMessage", "DiagnosticsStatusNotification"),
        ("DiagnosticsStatusNotification", "TriggerMessage", "DiagnosticsStatusNotification"),
        ("SignChargingStationCertificate", "ExtendedTriggerMessage", "SignChargePointCertificate"),
    ],
)
def test_neutral_trigger_names_become_1_6_messages(
    translator: Ocpp16Translator, neutral: str, action: str, requested: str
) -> None:
    request = pb.TriggerMessageRequest(station_id="CP1", message=neutral)
    assert call(translator, "TriggerMessage", request) == (action, {"requestedMessage": requested})
    answer = reply(translator, "TriggerMessage", request, {"status": "NotImplemented"})
    assert answer.status == "NotImplemented"


def test_a_trigger_for_one_connector_names_it(translator: Ocpp16Translator) -> None:
    request = pb.TriggerMessageRequest(station_id="CP1", message="MeterValues", evse_id=2)
    _, payload = call(translator, "TriggerMessage", request)
    assert payload == {"requestedMessage": "MeterValues", "connectorId": 2}


def test_triggering_a_message_1_6_does_not_have_is_unsupported(
    translator: Ocpp16Translator,
) -> None:
    request = pb.TriggerMessageRequest(station_id="CP1", message="TransactionEvent")
    with pytest.raises(Unsupported, match="cannot trigger 'TransactionEvent'"):
        translator.request("TriggerMessage", request)


# -- firmware and logs ------------------------------------------------------------------------


def test_plain_firmware_is_an_update_firmware_with_retries(translator: Ocpp16Translator) -> None:
    request = pb.UpdateFirmwareRequest(
        station_id="CP1",
        location="https://fw.example/cp-2.1.bin",
        retrieve_at=stamp("2026-03-02T03:00:00Z"),
        retries=3,
        retry_interval_s=120,
    )
    assert call(translator, "UpdateFirmware", request) == (
        "UpdateFirmware",
        {
            "location": "https://fw.example/cp-2.1.bin",
            "retrieveDate": "2026-03-02T03:00:00Z",
            "retries": 3,
            "retryInterval": 120,
        },
    )


def test_firmware_without_a_retrieve_time_is_fetched_now(translator: Ocpp16Translator) -> None:
    request = pb.UpdateFirmwareRequest(station_id="CP1", location="https://fw.example/a.bin")
    _, payload = call(translator, "UpdateFirmware", request)
    assert payload["retrieveDate"] == NOW_TEXT


def test_an_empty_update_firmware_answer_means_accepted(translator: Ocpp16Translator) -> None:
    request = pb.UpdateFirmwareRequest(station_id="CP1", location="https://fw.example/a.bin")
    assert reply(translator, "UpdateFirmware", request, {}).status == "Accepted"


def test_an_install_time_for_unsigned_firmware_is_unsupported(translator: Ocpp16Translator) -> None:
    request = pb.UpdateFirmwareRequest(
        station_id="CP1", location="https://fw.example/a.bin", install_at=stamp(NOW_TEXT)
    )
    with pytest.raises(Unsupported, match="no install time"):
        translator.request("UpdateFirmware", request)


def test_signed_firmware_uses_the_security_extension(translator: Ocpp16Translator) -> None:
    request = pb.UpdateFirmwareRequest(
        station_id="CP1",
        location="https://fw.example/cp-2.1.bin",
        install_at=stamp("2026-03-02T04:00:00Z"),
        request_id=77,
        signing_certificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        signature="c2lnbmF0dXJl",
    )
    action, payload = call(translator, "UpdateFirmware", request)
    assert action == "SignedUpdateFirmware"
    assert payload["requestId"] == 77
    assert payload["firmware"] == {
        "location": "https://fw.example/cp-2.1.bin",
        "retrieveDateTime": NOW_TEXT,
        "installDateTime": "2026-03-02T04:00:00Z",
        "signingCertificate": request.signing_certificate,
        "signature": "c2lnbmF0dXJl",
    }
    answer = reply(translator, "UpdateFirmware", request, {"status": "InvalidCertificate"})
    assert answer.status == "InvalidCertificate"


def test_half_signed_firmware_is_invalid(translator: Ocpp16Translator) -> None:
    request = pb.UpdateFirmwareRequest(
        station_id="CP1", location="https://fw.example/a.bin", signature="c2ln"
    )
    with pytest.raises(InvalidCommand, match="both signing_certificate and signature"):
        translator.request("UpdateFirmware", request)


def test_firmware_without_a_location_is_invalid(translator: Ocpp16Translator) -> None:
    with pytest.raises(InvalidCommand, match="location is required"):
        translator.request("UpdateFirmware", pb.UpdateFirmwareRequest(station_id="CP1"))


def test_diagnostics_are_requested_with_their_time_window(translator: Ocpp16Translator) -> None:
    request = pb.GetLogsRequest(
        station_id="CP1",
        location="ftp://logs.example/upload",
        kind="diagnostics",
        oldest=stamp("2026-02-28T00:00:00Z"),
        latest=stamp("2026-03-01T00:00:00Z"),
        retries=2,
    )
    assert call(translator, "GetLogs", request) == (
        "GetDiagnostics",
        {
            "location": "ftp://logs.example/upload",
            "startTime": "2026-02-28T00:00:00Z",
            "stopTime": "2026-03-01T00:00:00Z",
            "retries": 2,
        },
    )
    answer = reply(translator, "GetLogs", request, {"fileName": "diag-CP1.zip"})
    assert (answer.status, answer.file_name) == ("Accepted", "diag-CP1.zip")


def test_a_station_without_diagnostics_answers_without_a_file_name(
    translator: Ocpp16Translator,
) -> None:
    request = pb.GetLogsRequest(station_id="CP1", location="ftp://logs.example/upload")
    answer = reply(translator, "GetLogs", request, {})
    assert (answer.status, answer.file_name, answer.payload_json) == ("Rejected", "", "{}")


def test_security_logs_use_the_security_extension_get_log(translator: Ocpp16Translator) -> None:
    request = pb.GetLogsRequest(
        station_id="CP1",
        location="https://logs.example/upload",
        kind="security",
        request_id=31,
        latest=stamp("2026-03-01T00:00:00Z"),
    )
    assert call(translator, "GetLogs", request) == (
        "GetLog",
        {
            "logType": "SecurityLog",
            "requestId": 31,
            "log": {
                "remoteLocation": "https://logs.example/upload",
                "latestTimestamp": "2026-03-01T00:00:00Z",
            },
        },
    )
    answer = reply(translator, "GetLogs", request, {"status": "Accepted", "filename": "sec.log"})
    assert (answer.status, answer.file_name) == ("Accepted", "sec.log")


def test_an_unknown_log_kind_is_invalid(translator: Ocpp16Translator) -> None:
    request = pb.GetLogsRequest(station_id="CP1", location="https://x", kind="audit")
    with pytest.raises(InvalidCommand, match="'diagnostics' or 'security'"):
        translator.request("GetLogs", request)


# -- smart charging ---------------------------------------------------------------------------


def test_a_charging_profile_is_sent_in_1_6_terms(translator: Ocpp16Translator) -> None:
    request = pb.SetChargingProfileRequest(
        station_id="CP1", evse_id=0, profile=a_charging_profile()
    )
    action, payload = call(translator, "SetChargingProfile", request)
    assert action == "SetChargingProfile"
    assert payload == {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 12,
            "stackLevel": 2,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validFrom": "2026-03-01T00:00:00Z",
            "validTo": "2026-04-01T00:00:00Z",
            "chargingSchedule": {
                "duration": 3600,
                "startSchedule": "2026-03-01T13:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 1800, "limit": 10.0},
                ],
                "minChargingRate": 6.0,
            },
        },
    }
    assert reply(translator, "SetChargingProfile", request, {"status": "Accepted"}).status == (
        "Accepted"
    )


@pytest.mark.parametrize(
    ("purpose", "expected"),
    [
        (pb.CHARGING_PROFILE_PURPOSE_STATION_MAX, "ChargePointMaxProfile"),
        (pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT, "TxDefaultProfile"),
        (pb.CHARGING_PROFILE_PURPOSE_TX, "TxProfile"),
    ],
)
def test_profile_purposes_take_their_1_6_names(
    translator: Ocpp16Translator, purpose: pb.ChargingProfilePurpose.ValueType, expected: str
) -> None:
    profile = a_charging_profile(purpose=purpose, transaction_id="99")
    request = pb.SetChargingProfileRequest(station_id="CP1", evse_id=1, profile=profile)
    _, payload = call(translator, "SetChargingProfile", request)
    assert payload["csChargingProfiles"]["chargingProfilePurpose"] == expected
    assert payload["csChargingProfiles"]["transactionId"] == 99


def test_a_minimal_profile_is_absolute_and_leaves_out_what_is_unset(
    translator: Ocpp16Translator,
) -> None:
    profile = pb.ChargingProfile(
        id=1,
        purpose=pb.CHARGING_PROFILE_PURPOSE_STATION_MAX,
        schedule=pb.ChargingSchedule(
            rate_unit="W", periods=[pb.ChargingSchedulePeriod(limit=11000.0)]
        ),
    )
    request = pb.SetChargingProfileRequest(station_id="CP1", profile=profile)
    _, payload = call(translator, "SetChargingProfile", request)
    assert payload["csChargingProfiles"] == {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
        },
    }


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (a_charging_profile(purpose=pb.CHARGING_PROFILE_PURPOSE_UNSPECIFIED), "needs a purpose"),
        (a_charging_profile(schedule=pb.ChargingSchedule(rate_unit="A")), "at least one period"),
        (
            a_charging_profile(schedule=pb.ChargingSchedule(periods=[pb.ChargingSchedulePeriod()])),
            "rate_unit",
        ),
        (a_charging_profile(transaction_id="tx-1"), "integers"),
    ],
)
def test_an_incomplete_profile_is_invalid(
    translator: Ocpp16Translator, profile: pb.ChargingProfile, message: str
) -> None:
    request = pb.SetChargingProfileRequest(station_id="CP1", evse_id=1, profile=profile)
    with pytest.raises(InvalidCommand, match=message):
        translator.request("SetChargingProfile", request)


def test_clearing_profiles_sends_only_the_filters_given(translator: Ocpp16Translator) -> None:
    request = pb.ClearChargingProfileRequest(
        station_id="CP1", evse_id=1, purpose=pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT, stack_level=2
    )
    assert call(translator, "ClearChargingProfile", request) == (
        "ClearChargingProfile",
        {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2},
    )
    by_id = pb.ClearChargingProfileRequest(station_id="CP1", profile_id=12)
    assert call(translator, "ClearChargingProfile", by_id) == ("ClearChargingProfile", {"id": 12})
    assert reply(translator, "ClearChargingProfile", by_id, {"status": "Unknown"}).status == (
        "Unknown"
    )


def test_a_composite_schedule_is_asked_for_a_connector_and_comes_back_typed(
    translator: Ocpp16Translator,
) -> None:
    request = pb.GetCompositeScheduleRequest(
        station_id="CP1", evse_id=1, duration_s=86400, rate_unit="W"
    )
    assert call(translator, "GetCompositeSchedule", request) == (
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 86400, "chargingRateUnit": "W"},
    )
    payload = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-03-01T12:00:00Z",
        "chargingSchedule": {
            "duration": 86400,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
                {"startPeriod": 3600, "limit": 7400.0},
            ],
            "minChargingRate": 1400.0,
        },
    }
    answer = reply(translator, "GetCompositeSchedule", request, payload)
    assert answer.status == "Accepted"
    assert answer.schedule.start_schedule == stamp("2026-03-01T12:00:00Z")
    assert (answer.schedule.duration_s, answer.schedule.rate_unit) == (86400, "W")
    assert [(p.start_period_s, p.limit, p.number_phases) for p in answer.schedule.periods] == [
        (0, 11000.0, 3),
        (3600, 7400.0, 0),
    ]
    assert answer.schedule.min_charging_rate == 1400.0
    assert orjson.loads(answer.payload_json) == payload


def test_a_rejected_composite_schedule_has_no_schedule(translator: Ocpp16Translator) -> None:
    request = pb.GetCompositeScheduleRequest(station_id="CP1", evse_id=1, duration_s=60)
    answer = reply(translator, "GetCompositeSchedule", request, {"status": "Rejected"})
    assert answer.status == "Rejected"
    assert not answer.HasField("schedule")


def test_a_composite_schedule_needs_a_duration(translator: Ocpp16Translator) -> None:
    request = pb.GetCompositeScheduleRequest(station_id="CP1", evse_id=1)
    with pytest.raises(InvalidCommand, match="duration_s must be positive"):
        translator.request("GetCompositeSchedule", request)


# -- local authorization and reservations ------------------------------------------------------


def test_a_differential_local_list_updates_and_removes_tags(translator: Ocpp16Translator) -> None:
    request = pb.SendLocalListRequest(station_id="CP1", version=8, update_type="Differential")
    request.entries.add(
        id_token=a_token("TAG-1"),
        status="Accepted",
        expiry=stamp("2026-12-31T23:59:59Z"),
        parent_id="FLEET-9",
    )
    request.entries.add(id_token=a_token("TAG-2"))
    assert call(translator, "SendLocalList", request) == (
        "SendLocalList",
        {
            "listVersion": 8,
            "updateType": "Differential",
            "localAuthorizationList": [
                {
                    "idTag": "TAG-1",
                    "idTagInfo": {
                        "status": "Accepted",
                        "expiryDate": "2026-12-31T23:59:59Z",
                        "parentIdTag": "FLEET-9",
                    },
                },
                {"idTag": "TAG-2"},
            ],
        },
    )
    answer = reply(translator, "SendLocalList", request, {"status": "VersionMismatch"})
    assert answer.status == "VersionMismatch"


def test_an_empty_full_local_list_clears_the_list(translator: Ocpp16Translator) -> None:
    request = pb.SendLocalListRequest(station_id="CP1", version=9, update_type="Full")
    assert call(translator, "SendLocalList", request) == (
        "SendLocalList",
        {"listVersion": 9, "updateType": "Full"},
    )


def test_a_full_local_list_entry_without_a_status_is_invalid(translator: Ocpp16Translator) -> None:
    request = pb.SendLocalListRequest(station_id="CP1", version=9, update_type="Full")
    request.entries.add(id_token=a_token("TAG-2"))
    with pytest.raises(InvalidCommand, match="'TAG-2' has no status in a Full update"):
        translator.request("SendLocalList", request)


def test_a_local_list_needs_a_known_update_type(translator: Ocpp16Translator) -> None:
    request = pb.SendLocalListRequest(station_id="CP1", version=9)
    with pytest.raises(InvalidCommand, match="Full or Differential"):
        translator.request("SendLocalList", request)


def test_the_local_list_version_comes_back_as_a_number(translator: Ocpp16Translator) -> None:
    request = pb.GetLocalListVersionRequest(station_id="CP1")
    assert call(translator, "GetLocalListVersion", request) == ("GetLocalListVersion", {})
    answer = reply(translator, "GetLocalListVersion", request, {"listVersion": 8})
    assert answer == pb.GetLocalListVersionReply(version=8)


def test_a_reservation_names_connector_tag_and_expiry(translator: Ocpp16Translator) -> None:
    request = pb.ReserveNowRequest(
        station_id="CP1",
        reservation_id=501,
        evse_id=2,
        id_token=a_token("TAG-1"),
        expiry=stamp("2026-03-01T12:30:00Z"),
        parent_id="FLEET-9",
    )
    assert call(translator, "ReserveNow", request) == (
        "ReserveNow",
        {
            "connectorId": 2,
            "expiryDate": "2026-03-01T12:30:00Z",
            "idTag": "TAG-1",
            "reservationId": 501,
            "parentIdTag": "FLEET-9",
        },
    )
    assert reply(translator, "ReserveNow", request, {"status": "Occupied"}).status == "Occupied"


def test_a_reservation_without_an_expiry_is_invalid(translator: Ocpp16Translator) -> None:
    request = pb.ReserveNowRequest(station_id="CP1", reservation_id=1, id_token=a_token())
    with pytest.raises(InvalidCommand, match=r"id_token\.id and expiry"):
        translator.request("ReserveNow", request)


def test_cancelling_a_reservation_names_it(translator: Ocpp16Translator) -> None:
    request = pb.CancelReservationRequest(station_id="CP1", reservation_id=501)
    assert call(translator, "CancelReservation", request) == (
        "CancelReservation",
        {"reservationId": 501},
    )
    assert reply(translator, "CancelReservation", request, {"status": "Rejected"}).status == (
        "Rejected"
    )


def test_clearing_the_cache_has_no_parameters(translator: Ocpp16Translator) -> None:
    request = pb.ClearCacheRequest(station_id="CP1")
    assert call(translator, "ClearCache", request) == ("ClearCache", {})
    assert reply(translator, "ClearCache", request, {"status": "Accepted"}).status == "Accepted"


# -- data transfer and dispatch ---------------------------------------------------------------


def test_data_transfer_carries_vendor_message_and_data(translator: Ocpp16Translator) -> None:
    request = pb.DataTransferRequest(
        station_id="CP1", vendor_id="com.acme", message_id="Price", data='{"eur":0.39}'
    )
    assert call(translator, "DataTransfer", request) == (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "Price", "data": '{"eur":0.39}'},
    )
    answer = reply(translator, "DataTransfer", request, {"status": "Accepted", "data": "ok"})
    assert answer == pb.DataTransferReply(status="Accepted", data="ok")


def test_data_transfer_needs_a_vendor(translator: Ocpp16Translator) -> None:
    with pytest.raises(InvalidCommand, match="vendor_id is required"):
        translator.request("DataTransfer", pb.DataTransferRequest(station_id="CP1"))


def test_a_method_the_servicer_answers_itself_has_no_translation(
    translator: Ocpp16Translator,
) -> None:
    with pytest.raises(Unsupported, match=r"no OCPP 1\.6 translation for Call"):
        translator.request("Call", pb.RawCallRequest(station_id="CP1"))
