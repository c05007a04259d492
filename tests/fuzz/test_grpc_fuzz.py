"""Fuzzed requests to every public gRPC method of every service in the real stack.

Each answer is OK or a deliberate status (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION,
...): never UNKNOWN or INTERNAL, which is what an unhandled exception in a servicer becomes,
and never a hang. Afterwards every service still answers its health check in the same process.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given

import chargegrid.api
from tests.fuzz.conftest import FuzzStack
from tests.fuzz.fuzz_settings import fuzz_settings
from tests.fuzz.proto_strategies import messages

BROKEN = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS}
STREAM_WINDOW_S = 1.5
UNARY_TIMEOUT_S = 20.0


def _pb2_modules() -> Iterator[ModuleType]:
    root = Path(next(iter(chargegrid.api.__path__)))
    for path in sorted(root.glob("*/v1/*_pb2.py")):
        yield importlib.import_module(f"chargegrid.api.{path.parent.parent.name}.v1.{path.stem}")


def _methods() -> list[tuple[str, MethodDescriptor]]:
    """(the stack service hosting it, method) for every rpc; the proto area names the service."""
    found = []
    for module in _pb2_modules():
        area = module.DESCRIPTOR.package.split(".")[2]
        for service in module.DESCRIPTOR.services_by_name.values():
            found += [(area, method) for method in service.methods if not method.client_streaming]
    return sorted(found, key=lambda pair: pair[1].full_name)


METHODS = _methods()


@pytest.fixture(scope="module")
def channels(fuzz_stack: FuzzStack) -> Iterator[dict[str, grpc.Channel]]:
    opened = {area: grpc.insecure_channel(fuzz_stack.address(area)) for area, _ in METHODS}
    yield opened
    for channel in opened.values():
        channel.close()


@pytest.fixture(scope="module")
def pids_before(fuzz_stack: FuzzStack) -> dict[str, int]:
    return fuzz_stack.service_pids()


def _call(
    channel: grpc.Channel, method: MethodDescriptor, request: bytes, token: str
) -> grpc.StatusCode:
    path = f"/{method.containing_service.full_name}/{method.name}"
    metadata = [("authorization", f"Bearer {token}")]
    if method.server_streaming:
        stream: Any = channel.unary_stream(path)(
            request, metadata=metadata, timeout=STREAM_WINDOW_S
        )
        try:
            for _ in stream:
                pass
        except grpc.RpcError as exc:
            code: grpc.StatusCode = exc.code()
            return grpc.StatusCode.OK if code is grpc.StatusCode.DEADLINE_EXCEEDED else code
        return grpc.StatusCode.OK
    try:
        channel.unary_unary(path)(request, metadata=metadata, timeout=UNARY_TIMEOUT_S)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize(("area", "method"), METHODS, ids=[m.full_name for _, m in METHODS])
def test_every_method_answers_fuzzed_requests_with_a_deliberate_status(
    fuzz_stack: FuzzStack,
    channels: dict[str, grpc.Channel],
    pids_before: dict[str, int],
    area: str,
    method: MethodDescriptor,
) -> None:
    token = fuzz_stack.admin_token

    @fuzz_settings(ci_examples=2)
    @given(request=messages(method.input_type))
    def answers(request: object) -> None:
        code = _call(channels[area], method, request.SerializeToString(), token)  # type: ignore[attr-defined]
        assert code not in BROKEN, f"{method.full_name} answered {code} to {request!r}"
        assert code is not grpc.StatusCode.DEADLINE_EXCEEDED, (
            f"{method.full_name} hung on {request!r}"
        )

    answers()
    assert fuzz_stack.service_pids()[area] == pids_before[area], f"{area} restarted"


def test_every_service_is_still_serving_in_the_same_process(
    fuzz_stack: FuzzStack, channels: dict[str, grpc.Channel], pids_before: dict[str, int]
) -> None:
    for area, channel in channels.items():
        health: Any = health_pb2_grpc.HealthStub(channel)
        reply = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, area
    assert fuzz_stack.service_pids() == pids_before
