"""Validate payloads against the official OCPP JSON schemas shipped in the `ocpp` package.

Each schema is compiled once into Python code (fastjsonschema) and cached per version,
action and direction, so a message costs one function call, not a schema walk. Violations
map to the error code the specification asks for: a missing field is an occurrence
violation, a wrong JSON type a type violation, an unknown field a format violation, a value
out of range or enum a property violation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

from chargegrid.gateway.protocol.errors import ErrorCode, OcppError
from chargegrid.gateway.protocol.versions import OcppVersion

SCHEMA_ROOT = Path(ocpp.__file__).parent
Validator = Callable[[Any], Any]

_RULE_CODES = {
    "required": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMAT_VIOLATION,
}


class Direction(Enum):
    REQUEST = "request"
    RESPONSE = "response"
    #: OCPP 2.1 SEND messages (no answer) have schemas named after the action alone.
    SEND = "send"


def schema_path(version: OcppVersion, action: str, direction: Direction) -> Path:
    folder = SCHEMA_ROOT / version.schema_dir / "schemas"
    if direction is Direction.SEND:
        name = action
    elif version is OcppVersion.V16:
        name = action if direction is Direction.REQUEST else f"{action}Response"
    else:
        name = f"{action}{'Request' if direction is Direction.REQUEST else 'Response'}"
    return folder / f"{name}.json"


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _as_specified(node: Any) -> Any:
    """The schema as the specification's data types mean it.

    1.6 asks for multipleOf 0.1 on some decimals, which binary floats cannot honour
    (21.4 / 0.1 is not an integer in IEEE 754); such values are checked as plain numbers.
    Both specifications define `integer` as 32 bit, which the JSON schemas leave unbounded:
    a requestId of 2**53 passed them and then failed deep in a handler as InternalError
    (found by tests/fuzz); the bounds make it a PropertyConstraintViolation at the edge.
    """
    if isinstance(node, dict):
        bounded = {k: _as_specified(v) for k, v in node.items() if k != "multipleOf"}
        if bounded.get("type") == "integer":
            bounded["minimum"] = max(bounded.get("minimum", INT32_MIN), INT32_MIN)
            bounded["maximum"] = min(bounded.get("maximum", INT32_MAX), INT32_MAX)
        return bounded
    if isinstance(node, list):
        return [_as_specified(v) for v in node]
    return node


@functools.cache
def validator_for(version: OcppVersion, action: str, direction: Direction) -> Validator | None:
    """The compiled validator, or None when the version has no such action."""
    path = schema_path(version, action, direction)
    if not path.is_file():
        return None
    schema = _as_specified(json.loads(path.read_text(encoding="utf-8")))
    compiled: Validator = fastjsonschema.compile(schema)
    return compiled


def known_action(version: OcppVersion, action: str) -> bool:
    return validator_for(version, action, Direction.REQUEST) is not None


def validate(
    version: OcppVersion, action: str, direction: Direction, payload: dict[str, Any]
) -> None:
    """Raise OcppError with the right code when `payload` breaks the schema."""
    validator = validator_for(version, action, direction)
    if validator is None:
        raise OcppError(ErrorCode.NOT_IMPLEMENTED, f"{action} is not an OCPP {version} action")
    try:
        validator(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        code = _RULE_CODES.get(exc.rule or "", ErrorCode.PROPERTY_CONSTRAINT_VIOLATION)
        field = (exc.name or "data").removeprefix("data").lstrip(".") or "payload"
        raise OcppError(code, exc.message.replace("data.", "", 1), {"field": field}) from exc


def warm_up(version: OcppVersion, actions: list[str]) -> int:
    """Compile both directions of `actions` now, so the first messages are not slower."""
    compiled = 0
    for action in actions:
        for direction in Direction:
            compiled += validator_for(version, action, direction) is not None
    return compiled
