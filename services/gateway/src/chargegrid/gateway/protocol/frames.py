"""Parse and build OCPP-J frames: [2, id, action, payload], [3, id, payload], [4, id, ...].

Parsing never trusts input: anything that is not a well-formed frame raises `FrameError`
carrying the generic error code to answer with and the unique id when one could be read
("-1" otherwise, as OCPP 2.x prescribes for unreadable ids). JSON goes through orjson,
which is several times faster than the standard library on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from chargegrid.gateway.protocol.errors import ErrorCode

CALL = 2
CALLRESULT = 3
CALLERROR = 4
#: OCPP 2.1 only: an error about a CALLRESULT, and an unanswered message.
CALLRESULTERROR = 5
SEND = 6

MAX_UNIQUE_ID_LENGTH = 36
UNKNOWN_ID = "-1"


@dataclass(slots=True, frozen=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(slots=True, frozen=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]


@dataclass(slots=True, frozen=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict[str, Any]


@dataclass(slots=True, frozen=True)
class Send:
    """OCPP 2.1 SEND: a message that expects no answer (e.g. NotifyPeriodicEventStream)."""

    unique_id: str
    action: str
    payload: dict[str, Any]


Frame = Call | CallResult | CallError | Send


class FrameError(Exception):
    """The frame is not valid OCPP-J; answer with `code` about `unique_id`."""

    def __init__(self, code: ErrorCode, description: str, unique_id: str = UNKNOWN_ID) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.unique_id = unique_id


def _unique_id(message: list[Any]) -> str:
    if len(message) < 2 or not isinstance(message[1], str) or not message[1]:
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "missing or non-string message id")
    if len(message[1]) > MAX_UNIQUE_ID_LENGTH:
        raise FrameError(
            ErrorCode.RPC_FRAMEWORK_ERROR,
            f"message id longer than {MAX_UNIQUE_ID_LENGTH} characters",
        )
    return message[1]


def parse(raw: str | bytes, extra_types: frozenset[int] = frozenset()) -> Frame:
    """One frame from the wire; `extra_types` admits 2.1's CALLRESULTERROR and SEND."""
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FrameError(ErrorCode.FORMAT_VIOLATION, f"invalid JSON: {exc}") from exc
    if not isinstance(message, list) or not message:
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "a frame must be a non-empty JSON array")
    type_id = message[0]
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "message type id must be an integer")
    unique_id = _unique_id(message)
    if type_id == CALL:
        return _call(message, unique_id)
    if type_id == CALLRESULT:
        return _call_result(message, unique_id)
    if type_id == CALLERROR or (type_id == CALLRESULTERROR and type_id in extra_types):
        return _call_error(message, unique_id)
    if type_id == SEND and type_id in extra_types:
        call = _call(message, unique_id)
        return Send(call.unique_id, call.action, call.payload)
    raise FrameError(
        ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED, f"message type {type_id} not supported", unique_id
    )


def _call(message: list[Any], unique_id: str) -> Call:
    if len(message) != 4:
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "a CALL has 4 elements", unique_id)
    action, payload = message[2], message[3]
    if not isinstance(action, str) or not action:
        raise FrameError(ErrorCode.RPC_FRAMEWORK_ERROR, "action must be a string", unique_id)
    if not isinstance(payload, dict):
        raise FrameError(ErrorCode.FORMAT_VIOLATION, "payload must be a JSON object", unique_id)
    return Call(unique_id, action, payload)


def _call_result(message: list[Any], unique_id: str) -> CallResult:
    if len(message) != 3 or not isinstance(message[2], dict):
        raise FrameError(
            ErrorCode.FORMAT_VIOLATION, "a CALLRESULT is [3, id, {payload}]", unique_id
        )
    return CallResult(unique_id, message[2])


def _call_error(message: list[Any], unique_id: str) -> CallError:
    if len(message) != 5 or not isinstance(message[2], str):
        raise FrameError(
            ErrorCode.FORMAT_VIOLATION, "a CALLERROR is [4, id, code, text, {details}]", unique_id
        )
    description = message[3] if isinstance(message[3], str) else ""
    details = message[4] if isinstance(message[4], dict) else {}
    return CallError(unique_id, message[2], description, details)


def dump_call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([CALL, unique_id, action, payload]).decode()


def dump_result(unique_id: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([CALLRESULT, unique_id, payload]).decode()


def dump_error(
    unique_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    return orjson.dumps([CALLERROR, unique_id, code, description[:255], details or {}]).decode()
