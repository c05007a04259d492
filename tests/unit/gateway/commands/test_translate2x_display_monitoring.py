"""2.x display messages (block O) and monitoring (block N): CALLs the official 2.0.1 and 2.1
schemas accept, replies typed, bad input refused before anything is sent, and no 1.6 form."""

from __future__ import annotations

from typing import Any

import pytest

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.translate2x import Ocpp2xTranslator
from chargegrid.gateway.commands.translate16 import Ocpp16Translator
from chargegrid.gateway.commands.translation import InvalidCommand, Unsupported
from chargegrid.gateway.protocol.versions import OcppVersion

from .builders import NOW, NOW_TEXT, answered, sent, stamp


@pytest.fixture(params=[OcppVersion.V201, OcppVersion.V21], ids=["2.0.1", "2.1"])
def translator(request: pytest.FixtureRequest) -> Ocpp2xTranslator:
    return Ocpp2xTranslator(request.param, clock=lambda: NOW, remote_start_ids=lambda: 77)


def call(translator: Ocpp2xTranslator, method: str, message: Any) -> tuple[str, dict[str, Any]]:
    return sent(translator, translator.version, method, message)


def a_message(**overrides: Any) -> pb.DisplayMessage:
    fields: dict[str, Any] = {"id": 5, "content": "Welcome", "language": "en"}
    fields.update(overrides)
    return pb.DisplayMessage(**fields)


def test_O01_set_display_message_carries_the_message_info(
    translator: Ocpp2xTranslator,
) -> None:
    message = a_message(priority="AlwaysFront", state="Charging", evse_id=2, end=stamp(NOW_TEXT))
    action, payload = call(
        translator,
        "SetDisplayMessage",
        pb.SetDisplayMessageRequest(station_id="CP", message=message),
    )

    assert action == "SetDisplayMessage"
    info = payload["message"]
    assert (info["id"], info["priority"], info["state"]) == (5, "AlwaysFront", "Charging")
    assert info["message"] == {"format": "UTF8", "content": "Welcome", "language": "en"}
    assert info["display"] == {"name": "Display", "evse": {"id": 2}}
    assert "endDateTime" in info


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"content": "x" * 513}, "longer than 512"),
        ({"content": ""}, "needs content"),
        ({"id": 0}, "id > 0"),
        ({"priority": "Loud"}, "priority must be one of"),
        ({"format": "PDF"}, "format must be one of"),
        ({"state": "Sleeping"}, "state must be one of"),
    ],
)
def test_bad_display_messages_are_refused_before_sending(
    translator: Ocpp2xTranslator, overrides: dict[str, Any], error: str
) -> None:
    request = pb.SetDisplayMessageRequest(station_id="CP", message=a_message(**overrides))
    with pytest.raises(InvalidCommand, match=error):
        translator.request("SetDisplayMessage", request)


def test_O03_get_display_messages_allocates_a_request_id_and_filters(
    translator: Ocpp2xTranslator,
) -> None:
    _, payload = call(
        translator, "GetDisplayMessages",
        pb.GetDisplayMessagesRequest(station_id="CP", ids=[1, 2], priority="InFront"),
    )  # fmt: skip
    assert payload == {"requestId": 77, "id": [1, 2], "priority": "InFront"}
    result = answered(
        translator, translator.version, "GetDisplayMessages",
        pb.GetDisplayMessagesRequest(station_id="CP"), {"status": "Unknown"},
    )  # fmt: skip
    assert result.status == "Unknown"


def test_O05_clear_display_message_sends_the_id(translator: Ocpp2xTranslator) -> None:
    assert call(
        translator, "ClearDisplayMessage", pb.ClearDisplayMessageRequest(station_id="CP", id=9)
    ) == ("ClearDisplayMessage", {"id": 9})


def test_N04_set_variable_monitoring_sends_each_monitor_and_types_the_results(
    translator: Ocpp2xTranslator,
) -> None:
    request = pb.SetVariableMonitoringRequest(
        station_id="CP",
        monitors=[
            pb.VariableMonitor(key="EVSE/Power", type="UpperThreshold", value=22000, severity=4,
                               evse_id=1),
            pb.VariableMonitor(key="TxCtrlr/EVConnectionTimeOut", type="Delta", value=5, id=3),
        ],
    )  # fmt: skip
    _, payload = call(translator, "SetVariableMonitoring", request)
    first, second = payload["setMonitoringData"]
    assert first["component"] == {"name": "EVSE", "evse": {"id": 1}}
    assert (first["type"], first["value"], first["severity"]) == ("UpperThreshold", 22000, 4)
    assert "id" not in first
    assert second["id"] == 3
    station_says = {
        "setMonitoringResult": [
            {"id": 11, "status": "Accepted", "type": "UpperThreshold", "severity": 4,
             "component": first["component"], "variable": first["variable"]},
            {"status": "UnknownVariable", "type": "Delta", "severity": 0,
             "component": second["component"], "variable": second["variable"]},
        ]
    }  # fmt: skip
    result = answered(
        translator, translator.version, "SetVariableMonitoring", request, station_says
    )
    assert [(r.key, r.id, r.status) for r in result.results] == [
        ("EVSE/Power", 11, "Accepted"),
        ("TxCtrlr/EVConnectionTimeOut", 0, "UnknownVariable"),
    ]


@pytest.mark.parametrize(
    ("monitor", "error"),
    [
        (pb.VariableMonitor(key="EVSE/Power", type="Sometimes"), "type must be one of"),
        (pb.VariableMonitor(key="EVSE/Power", type="Delta", severity=10), "severity must be"),
        (pb.VariableMonitor(key="EVSEPower", type="Delta"), "malformed key"),
    ],
)
def test_bad_monitors_are_refused_before_sending(
    translator: Ocpp2xTranslator, monitor: pb.VariableMonitor, error: str
) -> None:
    request = pb.SetVariableMonitoringRequest(station_id="CP", monitors=[monitor])
    with pytest.raises(InvalidCommand, match=error):
        translator.request("SetVariableMonitoring", request)


def test_N_clear_base_level_and_report_become_their_calls(translator: Ocpp2xTranslator) -> None:
    cleared = pb.ClearVariableMonitoringRequest(station_id="CP", ids=[1, 99])
    assert call(translator, "ClearVariableMonitoring", cleared)[1] == {"id": [1, 99]}
    result = answered(
        translator, translator.version, "ClearVariableMonitoring", cleared,
        {"clearMonitoringResult": [{"id": 1, "status": "Accepted"},
                                   {"id": 99, "status": "NotFound"}]},
    )  # fmt: skip
    assert [(r.id, r.status) for r in result.results] == [(1, "Accepted"), (99, "NotFound")]
    base = pb.SetMonitoringBaseRequest(station_id="CP", base="FactoryDefault")
    assert call(translator, "SetMonitoringBase", base)[1] == {"monitoringBase": "FactoryDefault"}
    level = pb.SetMonitoringLevelRequest(station_id="CP", severity=3)
    assert call(translator, "SetMonitoringLevel", level)[1] == {"severity": 3}
    report = pb.GetMonitoringReportRequest(
        station_id="CP", criteria=["ThresholdMonitoring"], keys=["EVSE/Power"]
    )
    assert call(translator, "GetMonitoringReport", report)[1] == {
        "requestId": 77,
        "monitoringCriteria": ["ThresholdMonitoring"],
        "componentVariable": [{"component": {"name": "EVSE"}, "variable": {"name": "Power"}}],
    }
    with pytest.raises(InvalidCommand, match="base must be one of"):
        translator.request("SetMonitoringBase", pb.SetMonitoringBaseRequest(base="Some"))


@pytest.mark.parametrize(
    "method",
    ["SetDisplayMessage", "GetDisplayMessages", "ClearDisplayMessage", "SetVariableMonitoring",
     "ClearVariableMonitoring", "SetMonitoringBase", "SetMonitoringLevel", "GetMonitoringReport"],
)  # fmt: skip
def test_16_has_no_display_messages_or_monitoring(method: str) -> None:
    translator = Ocpp16Translator(clock=lambda: NOW)
    with pytest.raises(Unsupported):
        translator.request(method, pb.SetDisplayMessageRequest())
