"""NotifyReport payloads flattened into the gateway's key naming."""

import json

from chargegrid.stations.reports import parse_notify_report
from chargegrid.stations.store.configuration import Reported


def a_report(*data: dict[str, object]) -> str:
    return json.dumps({"requestId": 1, "seqNo": 0, "reportData": list(data)})


def test_the_actual_attribute_is_kept_under_component_and_variable_with_instances() -> None:
    report = a_report(
        {
            "component": {"name": "TxCtrlr", "instance": "main"},
            "variable": {"name": "EVConnectionTimeOut", "instance": "x"},
            "variableAttribute": [
                {"type": "Target", "value": "1"},
                {"type": "Actual", "value": "60", "mutability": "ReadOnly"},
            ],
        }
    )
    assert parse_notify_report(report) == [
        Reported("TxCtrlr.main/EVConnectionTimeOut.x", "60", True)
    ]


def test_evse_and_connector_bound_components_do_not_collide() -> None:
    report = a_report(
        {
            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 2}},
            "variable": {"name": "ConnectorType"},
            "variableAttribute": [{"value": "cType2"}],
        },
        {
            "component": {"name": "Connector", "evse": {"id": 2, "connectorId": 1}},
            "variable": {"name": "ConnectorType"},
            "variableAttribute": [{"value": "cCCS2"}],
        },
    )
    assert [(r.key, r.value) for r in parse_notify_report(report)] == [
        ("Connector#1.2/ConnectorType", "cType2"),
        ("Connector#2.1/ConnectorType", "cCCS2"),
    ]


def test_malformed_reports_and_data_are_skipped() -> None:
    assert parse_notify_report("not json") == []
    assert parse_notify_report("[1, 2]") == []
    assert (
        parse_notify_report(
            a_report({"component": {}, "variable": {"name": "X"}}, {"component": "odd"})
        )
        == []
    )
