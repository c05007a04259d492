"""Proto messages <-> JSON: the API's bodies are the services' messages in proto JSON.

Field names stay snake_case as in the .proto files, enums are their names
(`CONNECTOR_STATUS_AVAILABLE`), timestamps RFC 3339, 64-bit integers strings, fields at
their default values included, so a page never has to guess whether a field exists.
"""

from __future__ import annotations

from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from chargegrid.console.problems import Problem

M = TypeVar("M", bound=Message)


def to_json(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )


def build(cls: type[M], values: dict[str, Any]) -> M:
    """`cls` from `values` (None values left out); a bad value is a 422 naming the field."""
    clean = _without_none(values)
    try:
        return json_format.ParseDict(clean, cls())
    except json_format.ParseError as exc:
        raise Problem(422, f"invalid request: {exc}") from exc


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = _without_none(value) if isinstance(value, dict) else value
    return out


def page(page_size: int | None, page_token: str | None) -> dict[str, Any]:
    return {"page_size": page_size, "page_token": page_token}
