"""Every typed command becomes a CALL that the official schema of each version accepts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.translate2x import Ocpp2xTranslator
from chargegrid.gateway.commands.translate16 import Ocpp16Translator
from chargegrid.gateway.commands.translation import InvalidCommand, Translator
from chargegrid.gateway.protocol.schemas import Direction, validate
from chargegrid.gateway.protocol.versions import OcppVersion

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _translator(version: OcppVersion) -> Translator:
    if version is OcppVersion.V16:
        return Ocpp16Translator(clock=lambda: NOW)
    return Ocpp2xTranslator(version, clock=lambda: NOW, remote_start_ids=lambda: 7)


def a_profile() -> pb.ChargingProfile:
    profile = pb.ChargingProfile(
        id=3, stack_level=1, purpose=pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT, kind="Absolute"
    )
    profile.schedule.rate_unit = "A"
    profile.schedule.periods.add(start_period_s=0, limit=16.0, number_phases=3)
    profile.schedule.start_schedule.FromDatetime(NOW)
    return profile


def commands() -> list[tuple[str, Message]]:
    token = pb.IdToken(id="TAG-1", type="ISO14443")
    expiry = pb.ReserveNowRequest(
        station_id="CP", reservation_id=5, evse_id=1, connector_id=1, id_token=token
    )
    expiry.expiry.FromDatetime(NOW)
    listing = pb.SendLocalListRequest(station_id="CP", version=4, update_type="Full")
    listing.entries.add(id_token=token, status="Accepted")
    return [
        ("StartCharging", pb.StartChargingRequest(station_id="CP", id_token=token, evse_id=1)),
        ("StopCharging", pb.StopChargingRequest(station_id="CP", transaction_id="42")),
        ("Reset", pb.ResetRequest(station_id="CP", kind=pb.RESET_KIND_HARD)),
        ("UnlockConnector", pb.UnlockConnectorRequest(station_id="CP", evse_id=1, connector_id=1)),
        ("ChangeAvailability", pb.ChangeAvailabilityRequest(station_id="CP", evse_id=1)),
        (
            "GetConfiguration",
            pb.GetConfigurationRequest(station_id="CP", keys=["OCPPCommCtrlr/HeartbeatInterval"]),
        ),
        (
            "SetConfiguration",
            pb.SetConfigurationRequest(
                station_id="CP",
                values=[pb.ConfigurationValue(key="OCPPCommCtrlr/HeartbeatInterval", value="60")],
            ),
        ),
        ("TriggerMessage", pb.TriggerMessageRequest(station_id="CP", message="Heartbeat")),
        (
            "UpdateFirmware",
            pb.UpdateFirmwareRequest(station_id="CP", location="https://fw/x.bin", request_id=9),
        ),
        ("GetLogs", pb.GetLogsRequest(station_id="CP", location="https://up/logs", request_id=2)),
        (
            "SetChargingProfile",
            pb.SetChargingProfileRequest(station_id="CP", evse_id=1, profile=a_profile()),
        ),
        ("ClearChargingProfile", pb.ClearChargingProfileRequest(station_id="CP", profile_id=3)),
        (
            "GetCompositeSchedule",
            pb.GetCompositeScheduleRequest(station_id="CP", evse_id=1, duration_s=3600),
        ),
        ("SendLocalList", listing),
        ("GetLocalListVersion", pb.GetLocalListVersionRequest(station_id="CP")),
        ("ReserveNow", expiry),
        ("CancelReservation", pb.CancelReservationRequest(station_id="CP", reservation_id=5)),
        ("ClearCache", pb.ClearCacheRequest(station_id="CP")),
        ("DataTransfer", pb.DataTransferRequest(station_id="CP", vendor_id="ACME", data="x")),
    ]


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize(("method", "request_message"), commands())
def test_every_command_is_a_schema_valid_call(
    version: OcppVersion, method: str, request_message: Message
) -> None:
    action, payload = _translator(version).request(method, request_message)
    validate(version, action, Direction.REQUEST, payload)


def test_1_6_sets_one_configuration_key_per_call() -> None:
    request = pb.SetConfigurationRequest(
        station_id="CP",
        values=[
            pb.ConfigurationValue(key="A", value="1"),
            pb.ConfigurationValue(key="B", value="2"),
        ],
    )
    with pytest.raises(InvalidCommand, match="one configuration key"):
        Ocpp16Translator(clock=lambda: NOW).request("SetConfiguration", request)


def test_2x_configuration_keys_name_component_and_variable() -> None:
    request = pb.GetConfigurationRequest(station_id="CP", keys=["HeartbeatInterval"])
    with pytest.raises(InvalidCommand, match="Component/Variable"):
        _translator(OcppVersion.V201).request("GetConfiguration", request)


def test_a_non_numeric_1_6_transaction_id_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="integers"):
        Ocpp16Translator(clock=lambda: NOW).request(
            "StopCharging", pb.StopChargingRequest(station_id="CP", transaction_id="abc")
        )


def test_2x_variable_results_become_values_and_unknown_keys() -> None:
    payload = {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeValue": "60",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            },
            {
                "attributeStatus": "UnknownVariable",
                "component": {"name": "X"},
                "variable": {"name": "Y", "instance": "2"},
            },
        ]
    }
    validate(OcppVersion.V201, "GetVariables", Direction.RESPONSE, payload)
    reply = _translator(OcppVersion.V201).reply(
        "GetConfiguration", pb.GetConfigurationRequest(), payload
    )
    assert isinstance(reply, pb.GetConfigurationReply)
    assert [(v.key, v.value) for v in reply.values] == [("OCPPCommCtrlr/HeartbeatInterval", "60")]
    assert list(reply.unknown_keys) == ["X/Y.2"]


def test_1_6_configuration_keys_come_back_typed() -> None:
    payload = {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
        "unknownKey": ["Nope"],
    }
    reply = Ocpp16Translator(clock=lambda: NOW).reply(
        "GetConfiguration", pb.GetConfigurationRequest(), payload
    )
    assert isinstance(reply, pb.GetConfigurationReply)
    assert reply.values[0].key == "HeartbeatInterval"
    assert list(reply.unknown_keys) == ["Nope"]
