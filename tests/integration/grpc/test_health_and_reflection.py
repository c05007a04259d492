"""Probes and tools need no token: health reports serving state, reflection lists services."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from chargegrid.platform.grpc import GrpcServer, create_server
from chargegrid.platform.settings import ServiceSettings
from tests.integration.grpc.conftest import STATION_CONTROL, Running

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(target: str, service: str) -> Any:
    async with grpc.aio.insecure_channel(target) as channel:
        return await _check(channel, service)


async def _check(channel: grpc.aio.Channel, service: str) -> Any:
    health: Any = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
    return reply.status


async def test_health_reports_serving_for_the_server_and_each_service(running: Running) -> None:
    assert await _status(running.target, "") == SERVING
    assert await _status(running.target, STATION_CONTROL) == SERVING


async def test_health_of_an_unknown_service_is_not_found(running: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await _status(running.target, "no.such.Service")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_health_turns_not_serving_as_soon_as_the_stop_begins(running: Running) -> None:
    async with grpc.aio.insecure_channel(running.target) as probe:
        assert await _check(probe, "") == SERVING  # connected before the stop begins
        stopping = asyncio.create_task(running.server.stop(grace_s=0.2, drain_s=0.5))
        await asyncio.sleep(0.05)
        assert await _check(probe, "") == NOT_SERVING
        assert await _check(probe, STATION_CONTROL) == NOT_SERVING
        await stopping
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await _status(running.target, "")
    assert gone.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_reflection_lists_the_registered_services(running: Running) -> None:
    async with grpc.aio.insecure_channel(running.target) as channel:
        stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = [reply async for reply in stub.ServerReflectionInfo(iter([request]))]
    names = {service.name for service in replies[0].list_services_response.service}
    assert {STATION_CONTROL, "grpc.health.v1.Health"} <= names


def _describe_call_method(target: str) -> tuple[list[str], str]:
    # The descriptor database is what grpcurl-like tools use; it wants a blocking channel.
    with grpc.insecure_channel(target) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = list(database.get_services())
        service = DescriptorPool(database).FindServiceByName(STATION_CONTROL)
        call = service.methods_by_name["Call"]
        return services, call.input_type.full_name


async def test_reflection_describes_the_methods_and_their_messages(running: Running) -> None:
    services, call_input = await asyncio.to_thread(_describe_call_method, running.target)
    assert STATION_CONTROL in services
    assert call_input == "chargegrid.api.gateway.v1.RawCallRequest"


async def test_a_server_built_from_service_settings_binds_where_they_say(tmp_path: Path) -> None:
    settings = ServiceSettings(grpc_host="127.0.0.1", grpc_port=0, api_tokens_file=tmp_path / "t")
    server = create_server(settings)
    port = await server.start()
    try:
        assert port > 0
        assert await _status(f"127.0.0.1:{port}", "") == SERVING
        taken = GrpcServer("127.0.0.1", port, tmp_path / "t")
        with pytest.raises((OSError, RuntimeError)):
            await taken.start()  # a port in use is an error, not a shared port
    finally:
        await server.stop(0)
