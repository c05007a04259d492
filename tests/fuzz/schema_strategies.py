"""Hypothesis strategies for payloads that the official OCPP JSON schemas accept.

Built from the schemas shipped in the `ocpp` package (the ones the gateway validates with),
biased towards the extremes a station may legally send: integers and decimals far beyond
any meter (negative, 2**63, 1e30), date-times from year 1 to 9999 in any offset, text in
any script up to the schema's length limit. (hypothesis-jsonschema would do this too, but
its 0.23.1 breaks on the hypothesis this workspace pins.)
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import ocpp
from hypothesis import strategies as st

SCHEMA_ROOT = Path(ocpp.__file__).parent
_EXTREME_INTS = [0, -1, 1, 2**31 - 1, -(2**31), 2**53, -(2**53), 2**63 - 1, -(2**63)]
_EXTREME_FLOATS = [0.0, -0.0, -1.5, 1e-300, 1e30, -1e30, 1.7976931348623157e308, -1e308]
_TEXT = st.characters(exclude_categories=["Cs"])


def request_schema(version_dir: str, action: str) -> dict[str, Any]:
    name = action if version_dir == "v16" else f"{action}Request"
    path = SCHEMA_ROOT / version_dir / "schemas" / f"{name}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _integers(node: dict[str, Any]) -> st.SearchStrategy[int]:
    low, high = node.get("minimum"), node.get("maximum")
    extremes = [
        v for v in _EXTREME_INTS if (low is None or v >= low) and (high is None or v <= high)
    ]
    edges = [v for v in (low, high) if isinstance(v, int)]
    return st.one_of(st.sampled_from(extremes + edges), st.integers(low, high))


def _numbers(node: dict[str, Any]) -> st.SearchStrategy[float | int]:
    low, high = node.get("minimum"), node.get("maximum")
    extremes = [
        v for v in _EXTREME_FLOATS if (low is None or v >= low) and (high is None or v <= high)
    ]
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(st.sampled_from(extremes or [low or 0.0]), floats, _integers(node))


def _date_times() -> st.SearchStrategy[str]:
    offsets = st.sampled_from(
        [dt.UTC, dt.timezone(dt.timedelta(hours=14)), dt.timezone(-dt.timedelta(hours=12))]
    )
    moments = st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=offsets)
    return moments.map(lambda m: m.isoformat().replace("+00:00", "Z"))


def _strings(node: dict[str, Any]) -> st.SearchStrategy[str]:
    if node.get("format") == "date-time":
        return _date_times()
    if node.get("format") == "uri":
        return st.sampled_from(["https://example.com/fw.bin", "ftp://h/ü", "x:" + "/" * 400])
    limit = node.get("maxLength")
    size = st.text(
        _TEXT, min_size=node.get("minLength", 0), max_size=limit if limit is not None else 2_000
    )
    if limit:
        return st.one_of(size, st.text(_TEXT, min_size=limit, max_size=limit))
    return size


def _object(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = node.get("properties", {})
    required = set(node.get("required", []))
    return st.fixed_dictionaries(
        {k: of(v, root) for k, v in properties.items() if k in required},
        optional={k: of(v, root) for k, v in properties.items() if k not in required},
    )


def of(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values `node` (a schema or a part of `root`) accepts."""
    if "$ref" in node:
        return st.deferred(lambda: of(root["definitions"][node["$ref"].rsplit("/", 1)[1]], root))
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "object":
        return _object(node, root)
    if kind == "array":
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + 4), low + 4)
        return st.lists(of(node.get("items", {}), root), min_size=low, max_size=high)
    if kind == "string":
        return _strings(node)
    if kind == "integer":
        return _integers(node)
    if kind == "number":
        return _numbers(node)
    if kind == "boolean":
        return st.booleans()
    return st.none()


@cache
def valid_request(version_dir: str, action: str) -> st.SearchStrategy[dict[str, Any]]:
    """Request payloads of `action` that its schema accepts, extremes first."""
    schema = request_schema(version_dir, action)
    return of(schema, schema)
