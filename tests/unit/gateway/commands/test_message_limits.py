"""B05/B06: Get/SetVariables split by the station's ItemsPerMessage and BytesPerMessage."""

from __future__ import annotations

from typing import Any

from chargegrid.gateway.commands.message_limits import (
    MessageLimits,
    chunks,
    limits_from,
    limits_query,
    send_within_limits,
)


def _entries(count: int, name: str = "V") -> dict[str, Any]:
    return {
        "getVariableData": [
            {"component": {"name": "C"}, "variable": {"name": f"{name}{i}"}} for i in range(count)
        ]
    }


def test_B06_get_variables_is_split_by_items_per_message() -> None:
    limits = MessageLimits({("ItemsPerMessage", "GetVariables"): 2})
    parts = chunks("GetVariables", _entries(5), limits)
    assert [len(p["getVariableData"]) for p in parts] == [2, 2, 1]


def test_B06_get_variables_is_split_by_bytes_per_message() -> None:
    limits = MessageLimits({("BytesPerMessage", "GetVariables"): 250})
    parts = chunks("GetVariables", _entries(6, name="LongVariableName"), limits)
    assert len(parts) > 1
    assert all(len(str(p)) < 400 for p in parts)
    assert sum(len(p["getVariableData"]) for p in parts) == 6


def test_an_entry_too_big_alone_is_still_sent_alone() -> None:
    limits = MessageLimits({("BytesPerMessage", "GetVariables"): 10})
    assert [len(p["getVariableData"]) for p in chunks("GetVariables", _entries(3), limits)] == [
        1, 1, 1,
    ]  # fmt: skip


def test_limits_the_station_does_not_report_are_no_limits() -> None:
    reply = {
        "getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "50",
             "component": {"name": "DeviceDataCtrlr"},
             "variable": {"name": "ItemsPerMessage", "instance": "SetVariables"}},
            {"attributeStatus": "UnknownVariable",
             "component": {"name": "DeviceDataCtrlr"},
             "variable": {"name": "BytesPerMessage", "instance": "SetVariables"}},
        ]
    }  # fmt: skip
    limits = limits_from(reply)
    assert limits.of("ItemsPerMessage", "SetVariables") == 50
    assert limits.of("BytesPerMessage", "SetVariables") is None
    assert len(limits_query()["getVariableData"]) == 4


async def test_the_limits_are_read_once_and_the_results_merged_in_order() -> None:
    sent: list[tuple[str, int]] = []

    async def station(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        entries = payload["getVariableData"]
        sent.append((action, len(entries)))
        if entries[0]["component"]["name"] == "DeviceDataCtrlr":
            return {"getVariableResult": [
                {"attributeStatus": "Accepted", "attributeValue": "2", **entries[0]}
            ]}  # fmt: skip
        return {"getVariableResult": [{"attributeStatus": "Accepted", **e} for e in entries]}

    reply, limits = await send_within_limits("GetVariables", _entries(3), None, station)
    again, _ = await send_within_limits("GetVariables", _entries(3), limits, station)

    assert [r["variable"]["name"] for r in reply["getVariableResult"]] == ["V0", "V1", "V2"]
    assert again == reply
    assert sent == [("GetVariables", 4), ("GetVariables", 2), ("GetVariables", 1),
                    ("GetVariables", 2), ("GetVariables", 1)]  # fmt: skip
