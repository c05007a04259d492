"""Display messages (2.x block O) as OCPP 2.0.1 CALLs: SetDisplayMessage, GetDisplayMessages,
ClearDisplayMessage. 1.6 has no display messages, so these have no 1.6 translation.

Enumerations are checked here, before anything is sent, so a typo is INVALID_ARGUMENT and not
a FormationViolation from the station; the content limit (512) is the schema's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.translation import InvalidCommand

Call = tuple[str, dict[str, Any]]
PRIORITIES = ("AlwaysFront", "InFront", "NormalCycle")
STATES = ("Charging", "Faulted", "Idle", "Unavailable")
FORMATS = ("ASCII", "HTML", "URI", "UTF8")
MAX_CONTENT = 512


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise InvalidCommand(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _stamp(message: Message, field: str) -> str | None:
    return getattr(message, field).ToJsonString() if message.HasField(field) else None


def _message_info(m: pb.DisplayMessage) -> dict[str, Any]:
    if m.id <= 0:
        raise InvalidCommand("a display message needs an id > 0")
    if not m.content:
        raise InvalidCommand("a display message needs content")
    if len(m.content) > MAX_CONTENT:
        raise InvalidCommand(f"content is longer than {MAX_CONTENT} characters")
    info: dict[str, Any] = {
        "id": m.id,
        "priority": _one_of(m.priority or "NormalCycle", PRIORITIES, "priority"),
        "message": {"format": _one_of(m.format or "UTF8", FORMATS, "format"), "content": m.content},
    }
    if m.language:
        info["message"]["language"] = m.language[:8]
    if m.state:
        info["state"] = _one_of(m.state, STATES, "state")
    for field, key in (("start", "startDateTime"), ("end", "endDateTime")):
        when = _stamp(m, field)
        if when is not None:
            info[key] = when
    if m.transaction_id:
        info["transactionId"] = m.transaction_id
    if m.evse_id:
        info["display"] = {"name": "Display", "evse": {"id": m.evse_id}}
    return info


def set_display_message(m: pb.SetDisplayMessageRequest, _env: Any) -> Call:
    return "SetDisplayMessage", {"message": _message_info(m.message)}


def get_display_messages(m: pb.GetDisplayMessagesRequest, env: Any) -> Call:
    payload: dict[str, Any] = {"requestId": m.request_id or env.remote_start_ids()}
    if m.ids:
        payload["id"] = list(m.ids)
    if m.priority:
        payload["priority"] = _one_of(m.priority, PRIORITIES, "priority")
    if m.state:
        payload["state"] = _one_of(m.state, STATES, "state")
    return "GetDisplayMessages", payload


def clear_display_message(m: pb.ClearDisplayMessageRequest, _env: Any) -> Call:
    if m.id <= 0:
        raise InvalidCommand("id must be > 0")
    return "ClearDisplayMessage", {"id": m.id}


REQUESTS: dict[str, Callable[[Any, Any], Call]] = {
    "SetDisplayMessage": set_display_message,
    "GetDisplayMessages": get_display_messages,
    "ClearDisplayMessage": clear_display_message,
}
