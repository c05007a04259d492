"""OCPP-J framing: what parses, and which error a malformed frame earns."""

import pytest

from chargegrid.gateway.protocol import frames
from chargegrid.gateway.protocol.errors import ErrorCode


def test_a_call_a_result_and_an_error_parse() -> None:
    assert frames.parse('[2, "a", "Heartbeat", {}]') == frames.Call("a", "Heartbeat", {})
    assert frames.parse('[3, "a", {"x": 1}]') == frames.CallResult("a", {"x": 1})
    assert frames.parse('[4, "a", "GenericError", "boom", {}]') == frames.CallError(
        "a", "GenericError", "boom", {}
    )


def test_send_frames_parse_only_where_the_version_allows_them() -> None:
    frame = '[6, "s", "NotifyPeriodicEventStream", {}]'
    assert isinstance(frames.parse(frame, frozenset({frames.SEND})), frames.Send)
    with pytest.raises(frames.FrameError) as refused:
        frames.parse(frame)
    assert refused.value.code is ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED


@pytest.mark.parametrize(
    ("raw", "code", "unique_id"),
    [
        ("nope", ErrorCode.FORMAT_VIOLATION, "-1"),
        ("[]", ErrorCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('["2", "a", "Heartbeat", {}]', ErrorCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('[true, "a", "Heartbeat", {}]', ErrorCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('[2, 17, "Heartbeat", {}]', ErrorCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', ErrorCode.RPC_FRAMEWORK_ERROR, "-1"),
        ('[2, "a", "Heartbeat", []]', ErrorCode.FORMAT_VIOLATION, "a"),
        ('[2, "a", 5, {}]', ErrorCode.RPC_FRAMEWORK_ERROR, "a"),
        ('[3, "a"]', ErrorCode.FORMAT_VIOLATION, "a"),
        ('[8, "a", {}]', ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED, "a"),
    ],
)
def test_malformed_frames_name_the_error_and_the_id_when_readable(
    raw: str, code: ErrorCode, unique_id: str
) -> None:
    with pytest.raises(frames.FrameError) as refused:
        frames.parse(raw)
    assert refused.value.code is code
    assert refused.value.unique_id == unique_id
