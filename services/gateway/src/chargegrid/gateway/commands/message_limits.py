"""GetVariables / SetVariables split by what the 2.x station takes in one message (B05, B06).

A station says how many entries (DeviceDataCtrlr.ItemsPerMessage) and how many bytes
(DeviceDataCtrlr.BytesPerMessage), per instance GetVariables / SetVariables, one CALL may
hold. The gateway asks once per connection, with one small GetVariables, the first time a
command has more than one entry, and keeps the answer on the connection; a limit the station
does not report is no limit. The CALLs of one command go out one after the other and their
results are merged into one reply, in the order of the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

ENTRIES = {"GetVariables": "getVariableData", "SetVariables": "setVariableData"}
RESULTS = {"GetVariables": "getVariableResult", "SetVariables": "setVariableResult"}
#: `[2,"<36-char id>","SetVariables",` and the closing bracket, around the payload.
FRAME_OVERHEAD = 60
LIMITED = ("ItemsPerMessage", "BytesPerMessage")


@dataclass(frozen=True)
class MessageLimits:
    #: (variable, action) -> limit, e.g. ("ItemsPerMessage", "SetVariables") -> 50.
    limits: dict[tuple[str, str], int] = field(default_factory=dict)

    def of(self, name: str, action: str) -> int | None:
        return self.limits.get((name, action))


def limits_query() -> dict[str, Any]:
    """The GetVariables that reads the four limits."""
    return {
        "getVariableData": [
            {"component": {"name": "DeviceDataCtrlr"},
             "variable": {"name": name, "instance": action}}
            for name in LIMITED
            for action in ENTRIES
        ]
    }  # fmt: skip


def limits_from(reply: dict[str, Any]) -> MessageLimits:
    found: dict[tuple[str, str], int] = {}
    for result in reply.get("getVariableResult", []):
        value = str(result.get("attributeValue", ""))
        variable = result.get("variable", {})
        if result.get("attributeStatus") == "Accepted" and value.isdigit() and int(value) > 0:
            found[(variable.get("name", ""), variable.get("instance", ""))] = int(value)
    return MessageLimits(found)


def _size(action: str, entries: list[dict[str, Any]]) -> int:
    return FRAME_OVERHEAD + len(orjson.dumps({ENTRIES[action]: entries}))


def chunks(action: str, payload: dict[str, Any], limits: MessageLimits) -> list[dict[str, Any]]:
    """The payload as CALLs within the station's limits (an entry too big alone goes alone)."""
    entries = payload[ENTRIES[action]]
    most = limits.of("ItemsPerMessage", action) or len(entries)
    max_bytes = limits.of("BytesPerMessage", action)
    parts: list[list[dict[str, Any]]] = [[]]
    for entry in entries:
        current = parts[-1]
        too_many = len(current) >= most
        too_big = max_bytes is not None and _size(action, [*current, entry]) > max_bytes
        if current and (too_many or too_big):
            parts.append([])
        parts[-1].append(entry)
    return [{**payload, ENTRIES[action]: part} for part in parts]


def merged(action: str, replies: list[dict[str, Any]]) -> dict[str, Any]:
    return {RESULTS[action]: [r for reply in replies for r in reply[RESULTS[action]]]}


Send = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def send_within_limits(
    action: str, payload: dict[str, Any], known: MessageLimits | None, send: Send
) -> tuple[dict[str, Any], MessageLimits | None]:
    """Send `payload` as as many CALLs as the limits need; the limits, learnt if needed."""
    if len(payload[ENTRIES[action]]) <= 1:
        return await send(action, payload), known
    if known is None:
        known = limits_from(await send("GetVariables", limits_query()))
    replies = [await send(action, part) for part in chunks(action, payload, known)]
    return merged(action, replies), known
