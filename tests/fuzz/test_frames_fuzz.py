"""Fuzzed OCPP 1.6 and 2.0.1 frames through the real gateway into the services.

Every frame gets the answer the specification names (a CALLRESULT that its response schema
accepts, or a CALLERROR with a code the version defines; never InternalError, which is what
an unhandled exception becomes), the connection stays usable after each, and afterwards no
service has crashed, a normal session still charges and bills, and no stored session holds
a negative or non-finite energy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargegrid.gateway.ocpp16.routes import ROUTES as ROUTES_16
from chargegrid.gateway.ocpp201.routes import ROUTES as ROUTES_201
from chargegrid.gateway.protocol.schemas import Direction, validator_for
from chargegrid.gateway.protocol.versions import OcppVersion
from tests.fuzz import frame_strategies as frames
from tests.fuzz.conftest import FuzzStack
from tests.fuzz.fuzz_settings import fuzz_settings
from tests.fuzz.station_client import FuzzClient

VERSIONS = {
    "ocpp1.6": ("v16", OcppVersion.V16, sorted(ROUTES_16)),
    "ocpp2.0.1": ("v201", OcppVersion.V201, sorted(ROUTES_201)),
}
#: What each version lets a CSMS answer with; InternalError is left out on purpose.
ERROR_CODES = {
    "ocpp1.6": {
        "NotImplemented",
        "NotSupported",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    },
    "ocpp2.0.1": {
        "NotImplemented",
        "NotSupported",
        "ProtocolError",
        "SecurityError",
        "FormatViolation",
        "PropertyConstraintViolation",
        "OccurrenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
        "RpcFrameworkError",
        "MessageTypeNotSupported",
    },
}


@pytest.fixture(scope="module", params=sorted(VERSIONS))
def client(fuzz_stack: FuzzStack, request: pytest.FixtureRequest) -> Iterator[FuzzClient]:
    subprotocol = request.param
    station_id = f"FUZZ-{subprotocol[4:].replace('.', '')}"
    with FuzzClient.booted(fuzz_stack.ocpp_url, station_id, subprotocol) as station:
        yield station


def _readable_id(frame: Any) -> str:
    """The id the gateway must echo: the frame's own when it could be read, else "-1"."""
    if (
        isinstance(frame, list)
        and len(frame) >= 2
        and isinstance(frame[0], int)
        and not isinstance(frame[0], bool)
        and isinstance(frame[1], str)
        and 0 < len(frame[1]) <= 36
    ):
        return frame[1]
    return "-1"


def _is_reply(frame: Any) -> bool:
    return _readable_id(frame) != "-1" and frame[0] in (3, 4)


def _assert_error(answer: list[Any], subprotocol: str, unique_id: str) -> None:
    assert len(answer) == 5, answer
    assert answer[0] == 4, answer
    assert answer[1] == unique_id, answer
    assert answer[2] in ERROR_CODES[subprotocol], answer
    assert isinstance(answer[3], str), answer
    assert isinstance(answer[4], dict), answer


def _assert_answered(client: FuzzClient, frame: Any, answers: list[list[Any]]) -> None:
    """The one answer a frame deserves (none for a reply to a call nobody made)."""
    if _is_reply(frame):
        assert len(answers) <= 1, answers
        for answer in answers:
            _assert_error(answer, client.subprotocol, frame[1])
        return
    assert len(answers) == 1, f"{frame!r} got {answers}"
    answer = answers[0]
    unique_id = _readable_id(frame)
    if answer[0] == 3:
        version = VERSIONS[client.subprotocol][1]
        assert isinstance(frame, list), answer
        assert frame[0] == 2, answer
        assert answer[1] == unique_id, answer
        validator = validator_for(version, frame[2], Direction.RESPONSE)
        assert validator is not None
        validator(answer[2])
        return
    _assert_error(answer, client.subprotocol, unique_id)


def _send(client: FuzzClient, frame: Any) -> None:
    raw = frame if isinstance(frame, str | bytes) else json.dumps(frame)
    _assert_answered(
        client, frame if not isinstance(frame, str | bytes) else None, client.exchange(raw)
    )


@fuzz_settings(ci_examples=30)
@given(frame=st.one_of(frames.not_json(), frames.JSON_VALUES, frames.frame_shaped()))
def test_garbage_frames_get_the_callerror_the_spec_names(client: FuzzClient, frame: Any) -> None:
    _send(client, frame)


@fuzz_settings(ci_examples=25)
@given(data=st.data())
def test_calls_of_unknown_actions_or_broken_payloads_are_refused(
    client: FuzzClient, data: st.DataObject
) -> None:
    version_dir, _, actions = VERSIONS[client.subprotocol]
    frame = data.draw(
        st.one_of(frames.unknown_calls(actions), frames.broken_calls(version_dir, actions))
    )
    _send(client, frame)


@fuzz_settings(ci_examples=40)
@given(data=st.data())
def test_schema_valid_extreme_calls_get_a_valid_answer(
    client: FuzzClient, data: st.DataObject
) -> None:
    version_dir, _, actions = VERSIONS[client.subprotocol]
    _send(client, data.draw(frames.valid_calls(version_dir, actions)))
