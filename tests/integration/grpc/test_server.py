"""A real gRPC server built by the platform: health, reflection, auth, deadlines, retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.platform.embedded_broker import free_port
from chargegrid.platform.grpc import (
    GrpcServer,
    NotFound,
    Role,
    TokenRegistry,
    create_channel,
    current_principal,
)

SERVICE = "chargegrid.api.gateway.v1.StationControl"


class FakeStationControl(pb_grpc.StationControlServicer):
    """Just enough behaviour to exercise the server plumbing."""

    def __init__(self) -> None:
        self.unavailable_left = 1

    async def ListConnections(self, request: Any, context: Any) -> pb.ListConnectionsReply:
        principal = current_principal()
        pod = principal.name if principal else "nobody"
        return pb.ListConnectionsReply(
            connections=[pb.Connection(station_id="CP1", gateway_pod=pod)]
        )

    async def Call(self, request: pb.RawCallRequest, context: Any) -> pb.RawCallReply:
        if request.action == "Slow":
            await asyncio.sleep(5)
        return pb.RawCallReply(payload_json='{"status": "Accepted"}')

    async def GetConnection(self, request: pb.GetConnectionRequest, context: Any) -> pb.Connection:
        raise NotFound(f"station {request.station_id} is not connected")

    async def DataTransfer(self, request: Any, context: Any) -> pb.DataTransferReply:
        if self.unavailable_left:
            self.unavailable_left -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        return pb.DataTransferReply(status="Accepted")


@dataclass
class Running:
    server: GrpcServer
    target: str
    tokens: dict[Role, str]
    servicer: FakeStationControl

    def stub(self, role: Role | None, **channel: Any) -> tuple[grpc.aio.Channel, Any]:
        token = self.tokens[role] if role else None
        ch = create_channel(self.target, token=token, **channel)
        return ch, pb_grpc.StationControlStub(ch)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    registry = TokenRegistry(tmp_path / "tokens.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    servicer = FakeStationControl()
    server = GrpcServer("127.0.0.1", free_port(), registry)
    server.add(pb_grpc.add_StationControlServicer_to_server, servicer, SERVICE)
    port = await server.start()
    yield Running(server, f"127.0.0.1:{port}", tokens, servicer)
    await server.stop(0.5)


async def test_health_reports_serving_for_the_server_and_each_service(running: Running) -> None:
    async with grpc.aio.insecure_channel(running.target) as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        await running.server.stop(0.5)
    async with grpc.aio.insecure_channel(running.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.aio.AioRpcError):
            await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)


async def test_reflection_lists_the_registered_services(running: Running) -> None:
    async with grpc.aio.insecure_channel(running.target) as channel:
        stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = [reply async for reply in stub.ServerReflectionInfo(iter([request]))]
    names = {s.name for s in replies[0].list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


async def test_a_call_without_a_token_is_unauthenticated(running: Running) -> None:
    channel, stub = running.stub(None)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListConnections(pb.ListConnectionsRequest())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "missing bearer token" in str(refused.value.details())


async def test_a_wrong_token_is_unauthenticated(running: Running) -> None:
    async with create_channel(running.target, token="not-a-real-token") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.StationControlStub(channel).ListConnections(pb.ListConnectionsRequest())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_viewer_calling_an_admin_method_is_permission_denied(running: Running) -> None:
    channel, stub = running.stub(Role.VIEWER)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Call(pb.RawCallRequest(station_id="CP1", action="Reset"))
        listing = await stub.ListConnections(pb.ListConnectionsRequest())
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert listing.connections[0].gateway_pod == "viewer"  # the handler saw its caller


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SERVICE])
async def test_admin_and_service_may_use_the_raw_call(running: Running, role: Role) -> None:
    channel, stub = running.stub(role)
    async with channel:
        reply = await stub.Call(pb.RawCallRequest(station_id="CP1", action="Reset"))
    assert reply.payload_json == '{"status": "Accepted"}'


async def test_a_deadline_cuts_a_slow_call(running: Running) -> None:
    channel, stub = running.stub(Role.ADMIN)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as slow:
            await stub.Call(pb.RawCallRequest(action="Slow"), timeout=0.2)
    assert slow.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_the_client_applies_a_default_deadline(running: Running) -> None:
    channel, stub = running.stub(Role.ADMIN, default_timeout_s=0.3)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as slow:
            await stub.Call(pb.RawCallRequest(action="Slow"))
    assert slow.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_domain_errors_become_their_status_code(running: Running) -> None:
    channel, stub = running.stub(Role.VIEWER)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetConnection(pb.GetConnectionRequest(station_id="CP9"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert missing.value.details() == "station CP9 is not connected"


async def test_the_client_retries_an_unavailable_answer(running: Running) -> None:
    channel, stub = running.stub(Role.OPERATOR)
    async with channel:
        reply = await stub.DataTransfer(pb.DataTransferRequest(station_id="CP1"))
    assert reply.status == "Accepted"
    assert running.servicer.unavailable_left == 0
