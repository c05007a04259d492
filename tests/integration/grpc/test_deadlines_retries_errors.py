"""Deadlines cut slow calls, UNAVAILABLE is retried, domain errors map to status codes."""

from __future__ import annotations

import re
import time

import grpc
import pytest
from structlog.testing import capture_logs

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.platform.grpc import Role
from tests.integration.grpc.conftest import Running


async def test_a_deadline_cuts_a_slow_call(running: Running) -> None:
    channel, stub = running.stub(Role.ADMIN)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as slow:
            await stub.Call(pb.RawCallRequest(action="Slow"), timeout=0.2)
    assert slow.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_the_client_applies_a_default_deadline_when_none_is_given(running: Running) -> None:
    channel, stub = running.stub(Role.ADMIN, default_timeout_s=0.3)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as slow:
            await stub.Call(pb.RawCallRequest(action="Slow"))
        quick = await stub.Call(pb.RawCallRequest(action="Reset"))
    assert slow.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert quick.payload_json


async def test_a_deadline_given_by_the_caller_wins_over_the_default(running: Running) -> None:
    channel, stub = running.stub(Role.ADMIN, default_timeout_s=0.1)
    started = time.monotonic()
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as slow:
            await stub.Call(pb.RawCallRequest(action="Slow"), timeout=0.6)
    assert slow.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started >= 0.55


async def test_the_client_retries_an_unavailable_answer(running: Running) -> None:
    channel, stub = running.stub(Role.OPERATOR)
    async with channel:
        reply = await stub.DataTransfer(pb.DataTransferRequest(station_id="CP1"))
    assert reply.status == "Accepted"
    assert running.servicer.unavailable_left == 0


async def test_without_retries_the_unavailable_answer_reaches_the_caller(
    running: Running,
) -> None:
    channel, stub = running.stub(Role.OPERATOR, max_attempts=1)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.DataTransfer(pb.DataTransferRequest(station_id="CP1"))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_domain_error_becomes_its_status_code_with_its_message(running: Running) -> None:
    channel, stub = running.stub(Role.VIEWER)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetConnection(pb.GetConnectionRequest(station_id="CP9"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert missing.value.details() == "station CP9 is not connected"


async def test_an_unexpected_error_is_internal_and_keeps_its_details_private(
    running: Running,
) -> None:
    channel, stub = running.stub(Role.ADMIN)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as crashed:
            await stub.Call(pb.RawCallRequest(action="Crash"))
    assert crashed.value.code() == grpc.StatusCode.INTERNAL
    assert "secret internals" not in str(crashed.value.details())


async def test_an_unexpected_error_gives_the_caller_an_error_id_and_no_class_name(
    running: Running,
) -> None:
    channel, stub = running.stub(Role.ADMIN)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as crashed:
            await stub.Call(pb.RawCallRequest(action="Crash"))
    details = str(crashed.value.details())
    assert re.fullmatch(r"internal error \(error id [0-9a-f]{16}\)", details)
    assert "RuntimeError" not in details


async def test_the_error_id_the_caller_sees_is_in_the_log_with_the_details(
    running: Running,
) -> None:
    channel, stub = running.stub(Role.ADMIN)
    with capture_logs() as logs:
        async with channel:
            with pytest.raises(grpc.aio.AioRpcError) as crashed:
                await stub.Call(pb.RawCallRequest(action="Crash"))
    error_id = str(crashed.value.details()).rsplit(" ", 1)[-1].rstrip(")")
    [logged] = [line for line in logs if line.get("error_id") == error_id]
    assert logged["event"] == "unhandled error in gRPC handler"
    assert logged["method"] == "/chargegrid.api.gateway.v1.StationControl/Call"
    assert logged["exc_info"]  # the traceback goes to the log, never to the caller
