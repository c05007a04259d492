"""Hypothesis strategies for what a broken or hostile station may put in a WebSocket frame.

From bytes that are no JSON at all, through JSON that is no OCPP-J frame (wrong shape,
wrong message type ids, ids that are not strings or too long), to well-formed CALLs of
unknown actions and CALLs of real actions whose payload breaks the schema.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.schema_strategies import valid_request

TEXT = st.characters(exclude_categories=["Cs"])
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(TEXT, max_size=50),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(TEXT, max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)
UNIQUE_IDS = st.one_of(
    st.text(TEXT, min_size=1, max_size=36),
    st.text(TEXT, min_size=37, max_size=200),
    st.sampled_from(["", "-1", "0", " "]),
    JSON_VALUES,
)
TYPE_IDS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from([2, 3, 4, 5, 6, 0, -1, 7, 99, 2**40]),
    st.sampled_from(["2", 2.0, True, None, [], {}]),
)


def _not_json(raw: str) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


def not_json() -> st.SearchStrategy[str | bytes]:
    return st.one_of(
        st.text(TEXT, max_size=200).filter(_not_json),
        st.binary(max_size=200),
        st.sampled_from(["[2,", '[2, "a", "Heartbeat", {]', "\x00", "[2,'a','Heartbeat',{}]"]),
    )


def frame_shaped() -> st.SearchStrategy[list[Any]]:
    """Arrays that look like frames: any type id, any id, any action, any payload."""
    return st.lists(JSON_VALUES, max_size=3).flatmap(
        lambda tail: st.tuples(TYPE_IDS, UNIQUE_IDS, st.text(TEXT, max_size=40), JSON_VALUES).map(
            lambda head: [*head[: 1 + len(tail) % 4], *tail]
        )
    )


def unknown_calls(actions: list[str]) -> st.SearchStrategy[list[Any]]:
    names = st.text(TEXT, min_size=1, max_size=60).filter(lambda a: a not in actions)
    return st.tuples(st.just(2), st.text(TEXT, min_size=1, max_size=36), names, JSON_VALUES).map(
        lambda call: [call[0], call[1], call[2], call[3] if isinstance(call[3], dict) else {}]
    )


def _break(payload: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """One violation: a field removed, replaced by any JSON value, or one added."""
    broken = dict(payload)
    how = draw(st.sampled_from(["remove", "replace", "add"] if broken else ["add"]))
    if how == "add":
        broken[draw(st.text(TEXT, min_size=1, max_size=20))] = draw(JSON_VALUES)
    else:
        field = draw(st.sampled_from(sorted(broken)))
        if how == "remove":
            del broken[field]
        else:
            broken[field] = draw(JSON_VALUES)
    return broken


def broken_calls(version_dir: str, actions: list[str]) -> st.SearchStrategy[list[Any]]:
    """CALLs of real actions whose payload breaks the schema (or, by chance, does not)."""

    @st.composite
    def build(draw: st.DrawFn) -> list[Any]:
        action = draw(st.sampled_from(actions))
        payload = draw(valid_request(version_dir, action))
        return [2, draw(st.text(TEXT, min_size=1, max_size=36)), action, _break(payload, draw)]

    return build()


def valid_calls(version_dir: str, actions: list[str]) -> st.SearchStrategy[list[Any]]:
    """CALLs of real actions whose payload the schema accepts, extremes included."""
    return st.sampled_from(actions).flatmap(
        lambda action: st.tuples(
            st.text(TEXT, min_size=1, max_size=36),
            st.just(action),
            valid_request(version_dir, action),
        ).map(lambda call: [2, call[0], call[1], call[2]])
    )
