"""Bearer tokens and roles: refused without a valid token, refused without the method's role."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from tests.integration.grpc.conftest import Running


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
    assert refused.value.details() == "invalid bearer token"


async def test_a_token_under_another_scheme_is_unauthenticated(running: Running) -> None:
    async with grpc.aio.insecure_channel(running.target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.StationControlStub(channel).ListConnections(
                pb.ListConnectionsRequest(),
                metadata=(("authorization", f"Basic {running.tokens[Role.ADMIN]}"),),
            )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_viewer_calling_an_admin_method_is_permission_denied(running: Running) -> None:
    channel, stub = running.stub(Role.VIEWER)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Call(pb.RawCallRequest(station_id="CP1", action="Reset"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "viewer" in str(refused.value.details())


async def test_an_operator_may_not_use_the_raw_call_either(running: Running) -> None:
    channel, stub = running.stub(Role.OPERATOR)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Call(pb.RawCallRequest(station_id="CP1", action="Reset"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.SERVICE, Role.ADMIN])
async def test_every_role_may_list_connections_and_the_handler_sees_who(
    running: Running, role: Role
) -> None:
    channel, stub = running.stub(role)
    async with channel:
        listing = await stub.ListConnections(pb.ListConnectionsRequest())
    assert listing.connections[0].gateway_pod == role.value


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SERVICE])
async def test_admin_and_service_may_use_the_raw_call(running: Running, role: Role) -> None:
    channel, stub = running.stub(role)
    async with channel:
        reply = await stub.Call(pb.RawCallRequest(station_id="CP1", action="Reset"))
    assert reply.payload_json == '{"status": "Accepted"}'


async def test_a_token_added_while_serving_works_at_once(running: Running, tmp_path: Path) -> None:
    late = TokenRegistry(tmp_path / "api-tokens.json").add("late-dashboard", Role.VIEWER)
    async with create_channel(running.target, token=late) as channel:
        listing = await pb_grpc.StationControlStub(channel).ListConnections(
            pb.ListConnectionsRequest()
        )
    assert listing.connections[0].gateway_pod == "late-dashboard"


async def test_a_removed_token_is_refused_at_once(running: Running, tmp_path: Path) -> None:
    assert TokenRegistry(tmp_path / "api-tokens.json").remove(Role.OPERATOR.value)
    channel, stub = running.stub(Role.OPERATOR)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListConnections(pb.ListConnectionsRequest())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_token_given_with_the_call_wins_over_the_channels(running: Running) -> None:
    channel, viewer_stub = running.stub(Role.VIEWER)
    admin = (("authorization", f"Bearer {running.tokens[Role.ADMIN]}"), ("x-note-bin", b"\x00\x01"))
    async with channel:
        reply = await viewer_stub.Call(pb.RawCallRequest(action="Reset"), metadata=admin)
    assert reply.payload_json
    assert running.servicer.metadata_seen["authorization"].endswith(running.tokens[Role.ADMIN])
