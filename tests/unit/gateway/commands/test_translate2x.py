"""OCPP 2.0.1 and 2.1: every typed command becomes a CALL the official schema of both
versions accepts, and every CALLRESULT becomes the typed reply."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.translate2x import ClockIds, Ocpp2xTranslator
from chargegrid.gateway.commands.translation import InvalidCommand, Unsupported
from chargegrid.gateway.protocol.versions import OcppVersion

from .builders import NOW, NOW_TEXT, a_charging_profile, a_token, answered, sent, stamp

REMOTE_START_ID = 4242


@pytest.fixture(params=[OcppVersion.V201, OcppVersion.V21], ids=["2.0.1", "2.1"])
def version(request: pytest.FixtureRequest) -> OcppVersion:
    return request.param


@pytest.fixture
def translator(version: OcppVersion) -> Ocpp2xTranslator:
    return Ocpp2xTranslator(version, clock=lambda: NOW, remote_start_ids=lambda: REMOTE_START_ID)


def call(translator: Ocpp2xTranslator, method: str, message: Any) -> tuple[str, dict[str, Any]]:
    return sent(translator, translator.version, method, message)


def reply(translator: Ocpp2xTranslator, method: str, message: Any, payload: dict[str, Any]) -> Any:
    return answered(translator, translator.version, method, message, payload)


def a_variable(component: str, variable: str, **fields: Any) -> dict[str, Any]:
    return {"component": {"name": component}, "variable": {"name": variable}, **fields}


# -- charging ---------------------------------------------------------------------------------


def test_a_remote_start_sends_a_central_token_and_a_fresh_remote_start_id(
    translator: Ocpp2xTranslator,
) -> None:
    request = pb.StartChargingRequest(station_id="CS1", id_token=pb.IdToken(id="APP-USER-7"))
    assert call(translator, "StartCharging", request) == (
        "RequestStartTransaction",
        {"idToken": {"idToken": "APP-USER-7", "type": "Central"}, "remoteStartId": REMOTE_START_ID},
    )


def test_a_remote_start_keeps_the_callers_id_evse_token_type_and_tx_profile(
    translator: Ocpp2xTranslator,
) -> None:
    profile = a_charging_profile(purpose=pb.CHARGING_PROFILE_PURPOSE_TX)
    request = pb.StartChargingRequest(
        station_id="CS1",
        id_token=a_token("04E91C5A", "ISO14443"),
        evse_id=2,
        remote_start_id=17,
        charging_profile=profile,
    )
    action, payload = call(translator, "StartCharging", request)
    assert action == "RequestStartTransaction"
    assert payload["remoteStartId"] == 17
    assert payload["evseId"] == 2
    assert payload["idToken"] == {"idToken": "04E91C5A", "type": "ISO14443"}
    assert payload["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"
    assert "transactionId" not in payload["chargingProfile"]


def test_a_remote_start_refuses_a_profile_for_an_existing_transaction(
    translator: Ocpp2xTranslator,
) -> None:
    profile = a_charging_profile(purpose=pb.CHARGING_PROFILE_PURPOSE_TX, transaction_id="tx-1")
    request = pb.StartChargingRequest(
        station_id="CS1", id_token=a_token(), charging_profile=profile
    )
    with pytest.raises(InvalidCommand, match="cannot name a transaction"):
        translator.request("StartCharging", request)


def test_a_remote_start_answer_carries_status_reason_and_payload(
    translator: Ocpp2xTranslator,
) -> None:
    request = pb.StartChargingRequest(station_id="CS1", id_token=a_token())
    payload = {"status": "Rejected", "statusInfo": {"reasonCode": "NoCable"}}
    answer = reply(translator, "StartCharging", request, payload)
    assert (answer.status, answer.status_reason) == ("Rejected", "NoCable")
    assert orjson.loads(answer.payload_json) == payload


def test_a_remote_stop_sends_the_transaction_id_as_text(translator: Ocpp2xTranslator) -> None:
    request = pb.StopChargingRequest(station_id="CS1", transaction_id="c3f1-77")
    assert call(translator, "StopCharging", request) == (
        "RequestStopTransaction",
        {"transactionId": "c3f1-77"},
    )
    assert reply(translator, "StopCharging", request, {"status": "Accepted"}).status == "Accepted"


def test_a_remote_stop_without_a_transaction_is_invalid(translator: Ocpp2xTranslator) -> None:
    with pytest.raises(InvalidCommand, match="transaction_id is required"):
        translator.request("StopCharging", pb.StopChargingRequest(station_id="CS1"))


def test_without_an_injected_source_remote_start_ids_come_from_the_clock(
    version: OcppVersion,
) -> None:
    translator = Ocpp2xTranslator(version, clock=lambda: NOW)
    request = pb.StartChargingRequest(station_id="CS1", id_token=a_token())
    first = translator.request("StartCharging", request)[1]["remoteStartId"]
    second = translator.request("StartCharging", request)[1]["remoteStartId"]
    assert 0 < first < second


def test_clock_ids_are_positive_and_increase_even_when_the_clock_stands_still() -> None:
    times = iter([NOW, NOW, NOW + timedelta(seconds=5)])
    ids = ClockIds(lambda: next(times))
    first, second, third = ids(), ids(), ids()
    assert 0 < first < second < third
    assert third - first == 50


def test_the_translator_speaks_only_2x() -> None:
    with pytest.raises(ValueError, match=r"not 1\.6"):
        Ocpp2xTranslator(OcppVersion.V16, clock=lambda: NOW)


# -- station operations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (pb.RESET_KIND_SOFT, "OnIdle"),
        (pb.RESET_KIND_ON_IDLE, "OnIdle"),
        (pb.RESET_KIND_HARD, "Immediate"),
    ],
)
def test_resets_wait_for_idle_unless_hard_is_asked_for(
    translator: Ocpp2xTranslator, kind: pb.ResetKind.ValueType, expected: str
) -> None:
    request = pb.ResetRequest(station_id="CS1", kind=kind)
    assert call(translator, "Reset", request) == ("Reset", {"type": expected})
    assert reply(translator, "Reset", request, {"status": "Scheduled"}).status == "Scheduled"


def test_a_reset_can_target_one_evse(translator: Ocpp2xTranslator) -> None:
    request = pb.ResetRequest(station_id="CS1", kind=pb.RESET_KIND_HARD, evse_id=2)
    assert call(translator, "Reset", request) == ("Reset", {"type": "Immediate", "evseId": 2})


def test_a_reset_without_a_kind_is_invalid(translator: Ocpp2xTranslator) -> None:
    with pytest.raises(InvalidCommand, match="reset kind is required"):
        translator.request("Reset", pb.ResetRequest(station_id="CS1"))


def test_unlocking_names_evse_and_connector(translator: Ocpp2xTranslator) -> None:
    request = pb.UnlockConnectorRequest(station_id="CS1", evse_id=1, connector_id=2)
    assert call(translator, "UnlockConnector", request) == (
        "UnlockConnector",
        {"evseId": 1, "connectorId": 2},
    )
    answer = reply(translator, "UnlockConnector", request, {"status": "UnknownConnector"})
    assert answer.status == "UnknownConnector"


@pytest.mark.parametrize(("evse_id", "connector_id"), [(0, 1), (1, 0), (0, 0)])
def test_unlocking_without_both_evse_and_connector_is_invalid(
    translator: Ocpp2xTranslator, evse_id: int, connector_id: int
) -> None:
    request = pb.UnlockConnectorRequest(
        station_id="CS1", evse_id=evse_id, connector_id=connector_id
    )
    with pytest.raises(InvalidCommand, match="both evse_id and connector_id"):
        translator.request("UnlockConnector", request)


def test_availability_of_the_whole_station_names_no_evse(translator: Ocpp2xTranslator) -> None:
    request = pb.ChangeAvailabilityRequest(station_id="CS1", operative=True)
    assert call(translator, "ChangeAvailability", request) == (
        "ChangeAvailability",
        {"operationalStatus": "Operative"},
    )
    answer = reply(translator, "ChangeAvailability", request, {"status": "Accepted"})
    assert answer.status == "Accepted"


def test_availability_of_one_connector_names_evse_and_connector(
    translator: Ocpp2xTranslator,
) -> None:
    request = pb.ChangeAvailabilityRequest(station_id="CS1", evse_id=1, connector_id=2)
    assert call(translator, "ChangeAvailability", request) == (
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 2}},
    )


def test_a_connector_without_its_evse_is_invalid(translator: Ocpp2xTranslator) -> None:
    request = pb.ChangeAvailabilityRequest(station_id="CS1", connector_id=2)
    with pytest.raises(InvalidCommand, match="needs its evse_id"):
        translator.request("ChangeAvailability", request)


# -- configuration ----------------------------------------------------------------------------


def test_configuration_keys_become_component_and_variable_pairs(
    translator: Ocpp2xTranslator,
) -> None:
    keys = ["OCPPCommCtrlr/HeartbeatInterval", "EVSE.1/Power", "TxCtrlr/TxStartPoint.Alt"]
    request = pb.GetConfigurationRequest(station_id="CS1", keys=keys)
    assert call(translator, "GetConfiguration", request) == (
        "GetVariables",
        {
            "getVariableData": [
                a_variable("OCPPCommCtrlr", "HeartbeatInterval"),
                {"component": {"name": "EVSE", "instance": "1"}, "variable": {"name": "Power"}},
                {
                    "component": {"name": "TxCtrlr"},
                    "variable": {"name": "TxStartPoint", "instance": "Alt"},
                },
            ]
        },
    )


def test_variable_results_become_values_and_unknown_keys(translator: Ocpp2xTranslator) -> None:
    request = pb.GetConfigurationRequest(
        station_id="CS1", keys=["OCPPCommCtrlr/HeartbeatInterval", "Foo/Bar", "EVSE.1/Baz"]
    )
    payload = {
        "getVariableResult": [
            a_variable(
                "OCPPCommCtrlr",
                "HeartbeatInterval",
                attributeStatus="Accepted",
                attributeType="Actual",
                attributeValue="300",
            ),
            a_variable("Foo", "Bar", attributeStatus="UnknownComponent"),
            {
                "component": {"name": "EVSE", "instance": "1"},
                "variable": {"name": "Baz"},
                "attributeStatus": "UnknownVariable",
            },
        ]
    }
    answer = reply(translator, "GetConfiguration", request, payload)
    assert [(v.key, v.value, v.attribute_type) for v in answer.values] == [
        ("OCPPCommCtrlr/HeartbeatInterval", "300", "Actual")
    ]
    assert list(answer.unknown_keys) == ["Foo/Bar", "EVSE.1/Baz"]


def test_reading_everything_is_invalid_because_2x_needs_explicit_variables(
    translator: Ocpp2xTranslator,
) -> None:
    with pytest.raises(InvalidCommand, match=r"2\.x needs explicit variables"):
        translator.request("GetConfiguration", pb.GetConfigurationRequest(station_id="CS1"))


@pytest.mark.parametrize(
    "key", ["HeartbeatInterval", "/Variable", "Component/", "A/B/C", "Comp./Var", "Comp/.x"]
)
def test_a_malformed_key_is_invalid(translator: Ocpp2xTranslator, key: str) -> None:
    request = pb.GetConfigurationRequest(station_id="CS1", keys=[key])
    with pytest.raises(InvalidCommand, match="malformed key"):
        translator.request("GetConfiguration", request)


def test_setting_several_variables_is_one_set_variables(translator: Ocpp2xTranslator) -> None:
    request = pb.SetConfigurationRequest(
        station_id="CS1",
        values=[
            pb.ConfigurationValue(key="OCPPCommCtrlr/HeartbeatInterval", value="60"),
            pb.ConfigurationValue(
                key="SmartChargingCtrlr/Limit", value="32", attribute_type="MaxSet"
            ),
        ],
    )
    assert call(translator, "SetConfiguration", request) == (
        "SetVariables",
        {
            "setVariableData": [
                a_variable("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="60"),
                a_variable(
                    "SmartChargingCtrlr", "Limit", attributeValue="32", attributeType="MaxSet"
                ),
            ]
        },
    )
    payload = {
        "setVariableResult": [
            a_variable("OCPPCommCtrlr", "HeartbeatInterval", attributeStatus="Accepted"),
            a_variable("SmartChargingCtrlr", "Limit", attributeStatus="RebootRequired"),
        ]
    }
    answer = reply(translator, "SetConfiguration", request, payload)
    assert [(r.key, r.status) for r in answer.results] == [
        ("OCPPCommCtrlr/HeartbeatInterval", "Accepted"),
        ("SmartChargingCtrlr/Limit", "RebootRequired"),
    ]


def test_setting_nothing_is_invalid(translator: Ocpp2xTranslator) -> None:
    with pytest.raises(InvalidCommand, match="at least one configuration value"):
        translator.request("SetConfiguration", pb.SetConfigurationRequest(station_id="CS1"))


# -- triggers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("neutral", "requested"),
    [
        ("BootNotification", "BootNotification"),
        ("Heartbeat", "Heartbeat"),
        ("StatusNotification", "StatusNotification"),
        ("MeterValues", "MeterValues"),
        ("FirmwareStatusNotification", "FirmwareStatusNotification"),
        ("LogStatusNotification", "LogStatusNotification"),
        ("DiagnosticsStatusNotification", "LogStatusNotification"),
        ("TransactionEvent", "TransactionEvent"),
        ("SignChargingStationCertificate", "SignChargingStationCertificate"),
    ],
)
def test_neutral_trigger_names_become_2x_messages(
    translator: Ocpp2xTranslator, neutral: str, requested: str
) -> None:
    request = pb.TriggerMessageRequest(station_id="CS1", message=neutral)
    assert call(translator, "TriggerMessage", request) == (
        "TriggerMessage",
        {"requestedMessage": requested},
    )
    assert reply(translator, "TriggerMessage", request, {"status": "Accepted"}).status == "Accepted"


def test_a_trigger_for_one_connector_names_its_evse(translator: Ocpp2xTranslator) -> None:
    request = pb.TriggerMessageRequest(
        station_id="CS1", message="StatusNotification", evse_id=1, connector_id=1
    )
    _, payload = call(translator, "TriggerMessage", request)
    assert payload["evse"] == {"id": 1, "connectorId": 1}


def test_v2g20_certificates_can_be_triggered_on_2_1_only() -> None:
    request = pb.TriggerMessageRequest(station_id="CS1", message="SignV2G20Certificate")
    v21 = Ocpp2xTranslator(OcppVersion.V21, clock=lambda: NOW)
    assert sent(v21, OcppVersion.V21, "TriggerMessage", request)[1] == {
        "requestedMessage": "SignV2G20Certificate"
    }
    with pytest.raises(Unsupported, match=r"OCPP 2\.0\.1 cannot trigger 'SignV2G20Certificate'"):
        Ocpp2xTranslator(OcppVersion.V201, clock=lambda: NOW).request("TriggerMessage", request)


def test_an_unknown_trigger_is_unsupported(translator: Ocpp2xTranslator) -> None:
    request = pb.TriggerMessageRequest(station_id="CS1", message="Coffee")
    with pytest.raises(Unsupported, match="cannot trigger 'Coffee'"):
        translator.request("TriggerMessage", request)


# -- firmware and logs ------------------------------------------------------------------------


def test_firmware_is_retrieved_now_unless_a_time_is_given(translator: Ocpp2xTranslator) -> None:
    request = pb.UpdateFirmwareRequest(
        station_id="CS1", location="https://fw.example/cs-3.0.bin", request_id=5, retries=2
    )
    assert call(translator, "UpdateFirmware", request) == (
        "UpdateFirmware",
        {
            "requestId": 5,
            "retries": 2,
            "firmware": {"location": "https://fw.example/cs-3.0.bin", "retrieveDateTime": NOW_TEXT},
        },
    )
    answer = reply(translator, "UpdateFirmware", request, {"status": "AcceptedCanceled"})
    assert answer.status == "AcceptedCanceled"


def test_signed_firmware_carries_certificate_signature_and_install_time(
    translator: Ocpp2xTranslator,
) -> None:
    request = pb.UpdateFirmwareRequest(
        station_id="CS1",
        location="https://fw.example/cs-3.0.bin",
        retrieve_at=stamp("2026-03-02T02:00:00Z"),
        install_at=stamp("2026-03-02T03:00:00Z"),
        retry_interval_s=300,
        request_id=6,
        signing_certificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        signature="c2lnbmF0dXJl",
    )
    _, payload = call(translator, "UpdateFirmware", request)
    assert payload["retryInterval"] == 300
    assert payload["firmware"] == {
        "location": "https://fw.example/cs-3.0.bin",
        "retrieveDateTime": "2026-03-02T02:00:00Z",
        "installDateTime": "2026-03-02T03:00:00Z",
        "signingCertificate": request.signing_certificate,
        "signature": "c2lnbmF0dXJl",
    }


def test_a_certificate_without_a_signature_is_invalid(translator: Ocpp2xTranslator) -> None:
    request = pb.UpdateFirmwareRequest(
        station_id="CS1", location="https://fw.example/a.bin", signing_certificate="PEM"
    )
    with pytest.raises(InvalidCommand, match="signing_certificate comes with"):
        translator.request("UpdateFirmware", request)


@pytest.mark.parametrize(
    ("kind", "log_type"),
    [("diagnostics", "DiagnosticsLog"), ("", "DiagnosticsLog"), ("security", "SecurityLog")],
)
def test_logs_are_a_get_log_of_the_asked_kind(
    translator: Ocpp2xTranslator, kind: str, log_type: str
) -> None:
    request = pb.GetLogsRequest(
        station_id="CS1",
        location="https://logs.example/upload",
        kind=kind,
        request_id=44,
        oldest=stamp("2026-02-28T00:00:00Z"),
        latest=stamp("2026-03-01T00:00:00Z"),
        retries=1,
        retry_interval_s=60,
    )
    assert call(translator, "GetLogs", request) == (
        "GetLog",
        {
            "logType": log_type,
            "requestId": 44,
            "retries": 1,
            "retryInterval": 60,
            "log": {
                "remoteLocation": "https://logs.example/upload",
                "oldestTimestamp": "2026-02-28T00:00:00Z",
                "latestTimestamp": "2026-03-01T00:00:00Z",
            },
        },
    )
    answer = reply(translator, "GetLogs", request, {"status": "Accepted", "filename": "cs1.tgz"})
    assert (answer.status, answer.file_name) == ("Accepted", "cs1.tgz")


def test_logs_without_an_upload_location_are_invalid(translator: Ocpp2xTranslator) -> None:
    with pytest.raises(InvalidCommand, match="upload location is required"):
        translator.request("GetLogs", pb.GetLogsRequest(station_id="CS1", kind="security"))


# -- smart charging ---------------------------------------------------------------------------


def test_a_charging_profile_is_sent_in_2x_terms(translator: Ocpp2xTranslator) -> None:
    request = pb.SetChargingProfileRequest(
        station_id="CS1", evse_id=0, profile=a_charging_profile()
    )
    assert call(translator, "SetChargingProfile", request) == (
        "SetChargingProfile",
        {
            "evseId": 0,
            "chargingProfile": {
                "id": 12,
                "stackLevel": 2,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "validFrom": "2026-03-01T00:00:00Z",
                "validTo": "2026-04-01T00:00:00Z",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "startSchedule": "2026-03-01T13:00:00Z",
                        "duration": 3600,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                            {"startPeriod": 1800, "limit": 10.0},
                        ],
                        "minChargingRate": 6.0,
                    }
                ],
            },
        },
    )
    answer = reply(translator, "SetChargingProfile", request, {"status": "Rejected"})
    assert answer.status == "Rejected"


def test_a_station_max_profile_and_a_tx_profile_take_their_2x_names(
    translator: Ocpp2xTranslator,
) -> None:
    station_max = a_charging_profile(purpose=pb.CHARGING_PROFILE_PURPOSE_STATION_MAX)
    request = pb.SetChargingProfileRequest(station_id="CS1", profile=station_max)
    purpose = call(translator, "SetChargingProfile", request)[1]["chargingProfile"]
    assert purpose["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    tx = a_charging_profile(purpose=pb.CHARGING_PROFILE_PURPOSE_TX, transaction_id="c3f1-77")
    request = pb.SetChargingProfileRequest(station_id="CS1", evse_id=1, profile=tx)
    profile = call(translator, "SetChargingProfile", request)[1]["chargingProfile"]
    assert (profile["chargingProfilePurpose"], profile["transactionId"]) == ("TxProfile", "c3f1-77")


def test_a_profile_without_a_schedule_is_invalid(translator: Ocpp2xTranslator) -> None:
    profile = a_charging_profile()
    profile.ClearField("schedule")
    request = pb.SetChargingProfileRequest(station_id="CS1", profile=profile)
    with pytest.raises(InvalidCommand, match="needs a schedule"):
        translator.request("SetChargingProfile", request)


def test_clearing_profiles_sends_an_id_or_criteria(translator: Ocpp2xTranslator) -> None:
    by_id = pb.ClearChargingProfileRequest(station_id="CS1", profile_id=12)
    assert call(translator, "ClearChargingProfile", by_id) == (
        "ClearChargingProfile",
        {"chargingProfileId": 12},
    )
    by_criteria = pb.ClearChargingProfileRequest(
        station_id="CS1", evse_id=1, purpose=pb.CHARGING_PROFILE_PURPOSE_STATION_MAX, stack_level=3
    )
    assert call(translator, "ClearChargingProfile", by_criteria) == (
        "ClearChargingProfile",
        {
            "chargingProfileCriteria": {
                "evseId": 1,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "stackLevel": 3,
            }
        },
    )
    assert call(translator, "ClearChargingProfile", pb.ClearChargingProfileRequest()) == (
        "ClearChargingProfile",
        {},
    )
    answer = reply(translator, "ClearChargingProfile", by_id, {"status": "Unknown"})
    assert answer.status == "Unknown"


def test_a_composite_schedule_comes_back_typed(translator: Ocpp2xTranslator) -> None:
    request = pb.GetCompositeScheduleRequest(station_id="CS1", evse_id=1, duration_s=7200)
    assert call(translator, "GetCompositeSchedule", request) == (
        "GetCompositeSchedule",
        {"duration": 7200, "evseId": 1},
    )
    payload = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 7200,
            "scheduleStart": "2026-03-01T12:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 32.0, "numberPhases": 3},
                {"startPeriod": 3600, "limit": 16.0},
            ],
        },
    }
    answer = reply(translator, "GetCompositeSchedule", request, payload)
    assert answer.status == "Accepted"
    assert answer.schedule.start_schedule == stamp("2026-03-01T12:00:00Z")
    assert (answer.schedule.duration_s, answer.schedule.rate_unit) == (7200, "A")
    assert [(p.start_period_s, p.limit, p.number_phases) for p in answer.schedule.periods] == [
        (0, 32.0, 3),
        (3600, 16.0, 0),
    ]


def test_a_composite_schedule_can_ask_for_a_rate_unit(translator: Ocpp2xTranslator) -> None:
    request = pb.GetCompositeScheduleRequest(station_id="CS1", duration_s=60, rate_unit="W")
    assert call(translator, "GetCompositeSchedule", request)[1] == {
        "duration": 60,
        "evseId": 0,
        "chargingRateUnit": "W",
    }
    answer = reply(translator, "GetCompositeSchedule", request, {"status": "Rejected"})
    assert (answer.status, answer.HasField("schedule")) == ("Rejected", False)


# -- local authorization and reservations ------------------------------------------------------


def test_a_local_list_sends_typed_tokens_with_their_info(translator: Ocpp2xTranslator) -> None:
    request = pb.SendLocalListRequest(station_id="CS1", version=3, update_type="Differential")
    request.entries.add(
        id_token=a_token("04E91C5A"),
        status="Blocked",
        expiry=stamp("2026-12-31T23:59:59Z"),
        parent_id="FLEET-9",
    )
    request.entries.add(id_token=a_token("0A0B0C0D"))
    assert call(translator, "SendLocalList", request) == (
        "SendLocalList",
        {
            "versionNumber": 3,
            "updateType": "Differential",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "04E91C5A", "type": "ISO14443"},
                    "idTokenInfo": {
                        "status": "Blocked",
                        "cacheExpiryDateTime": "2026-12-31T23:59:59Z",
                        "groupIdToken": {"idToken": "FLEET-9", "type": "Central"},
                    },
                },
                {"idToken": {"idToken": "0A0B0C0D", "type": "ISO14443"}},
            ],
        },
    )
    assert reply(translator, "SendLocalList", request, {"status": "Failed"}).status == "Failed"


def test_a_local_list_token_without_a_type_is_invalid(translator: Ocpp2xTranslator) -> None:
    request = pb.SendLocalListRequest(station_id="CS1", version=3, update_type="Full")
    request.entries.add(id_token=pb.IdToken(id="04E91C5A"), status="Accepted")
    with pytest.raises(InvalidCommand, match="needs a type"):
        translator.request("SendLocalList", request)


def test_a_full_local_list_entry_without_a_status_is_invalid(translator: Ocpp2xTranslator) -> None:
    request = pb.SendLocalListRequest(station_id="CS1", version=3, update_type="Full")
    request.entries.add(id_token=a_token("04E91C5A"))
    with pytest.raises(InvalidCommand, match="no status in a Full update"):
        translator.request("SendLocalList", request)


def test_the_local_list_version_comes_back_as_a_number(translator: Ocpp2xTranslator) -> None:
    request = pb.GetLocalListVersionRequest(station_id="CS1")
    assert call(translator, "GetLocalListVersion", request) == ("GetLocalListVersion", {})
    answer = reply(translator, "GetLocalListVersion", request, {"versionNumber": 3})
    assert answer == pb.GetLocalListVersionReply(version=3)


def test_a_reservation_names_evse_token_group_and_expiry(translator: Ocpp2xTranslator) -> None:
    request = pb.ReserveNowRequest(
        station_id="CS1",
        reservation_id=9,
        evse_id=1,
        id_token=a_token("04E91C5A"),
        expiry=stamp("2026-03-01T12:30:00Z"),
        parent_id="FLEET-9",
    )
    assert call(translator, "ReserveNow", request) == (
        "ReserveNow",
        {
            "id": 9,
            "expiryDateTime": "2026-03-01T12:30:00Z",
            "idToken": {"idToken": "04E91C5A", "type": "ISO14443"},
            "evseId": 1,
            "groupIdToken": {"idToken": "FLEET-9", "type": "Central"},
        },
    )
    assert reply(translator, "ReserveNow", request, {"status": "Faulted"}).status == "Faulted"


def test_a_reservation_of_a_connector_without_its_evse_is_invalid(
    translator: Ocpp2xTranslator,
) -> None:
    request = pb.ReserveNowRequest(
        station_id="CS1", connector_id=2, id_token=a_token(), expiry=stamp(NOW_TEXT)
    )
    with pytest.raises(InvalidCommand, match="reserves an EVSE"):
        translator.request("ReserveNow", request)


def test_a_reservation_without_an_expiry_is_invalid(translator: Ocpp2xTranslator) -> None:
    request = pb.ReserveNowRequest(station_id="CS1", reservation_id=9, id_token=a_token())
    with pytest.raises(InvalidCommand, match="needs an expiry"):
        translator.request("ReserveNow", request)


def test_cancelling_a_reservation_names_it(translator: Ocpp2xTranslator) -> None:
    request = pb.CancelReservationRequest(station_id="CS1", reservation_id=9)
    assert call(translator, "CancelReservation", request) == (
        "CancelReservation",
        {"reservationId": 9},
    )
    assert reply(translator, "CancelReservation", request, {"status": "Accepted"}).status == (
        "Accepted"
    )


def test_clearing_the_cache_has_no_parameters(translator: Ocpp2xTranslator) -> None:
    request = pb.ClearCacheRequest(station_id="CS1")
    assert call(translator, "ClearCache", request) == ("ClearCache", {})
    assert reply(translator, "ClearCache", request, {"status": "Rejected"}).status == "Rejected"


# -- data transfer and dispatch ---------------------------------------------------------------


def test_data_transfer_carries_vendor_message_and_data(translator: Ocpp2xTranslator) -> None:
    request = pb.DataTransferRequest(station_id="CS1", vendor_id="com.acme", message_id="Ping")
    assert call(translator, "DataTransfer", request) == (
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "Ping"},
    )
    answer = reply(translator, "DataTransfer", request, {"status": "UnknownMessageId"})
    assert answer == pb.DataTransferReply(status="UnknownMessageId")


def test_structured_data_in_a_data_transfer_answer_comes_back_as_json(
    translator: Ocpp2xTranslator,
) -> None:
    request = pb.DataTransferRequest(station_id="CS1", vendor_id="com.acme")
    payload = {"status": "Accepted", "data": {"pong": True, "at": NOW_TEXT}}
    answer = reply(translator, "DataTransfer", request, payload)
    assert orjson.loads(answer.data) == {"pong": True, "at": NOW_TEXT}


def test_a_method_the_servicer_answers_itself_has_no_translation(
    translator: Ocpp2xTranslator,
) -> None:
    with pytest.raises(Unsupported, match="translation for ListConnections"):
        translator.request("ListConnections", pb.ListConnectionsRequest())
