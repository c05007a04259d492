"""A real platform gRPC server on a free port, serving a small fake StationControl.

Every role has a token in the server's registry, so tests pick a caller by role. The fake
servicer has just enough behaviour to exercise the plumbing: a slow action for deadlines, a
method that is UNAVAILABLE once for retries, domain and unexpected errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.platform.grpc import (
    GrpcServer,
    NotFound,
    Role,
    TokenRegistry,
    create_channel,
    current_principal,
)

STATION_CONTROL = "chargegrid.api.gateway.v1.StationControl"


class FakeStationControl(pb_grpc.StationControlServicer):
    def __init__(self) -> None:
        self.unavailable_left = 1
        self.metadata_seen: dict[str, str] = {}

    async def ListConnections(self, request: Any, context: Any) -> pb.ListConnectionsReply:
        principal = current_principal()
        caller = principal.name if principal else "nobody"
        return pb.ListConnectionsReply(
            connections=[pb.Connection(station_id="CP1", gateway_pod=caller)]
        )

    async def Call(self, request: pb.RawCallRequest, context: Any) -> pb.RawCallReply:
        self.metadata_seen = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        if request.action == "Slow":
            await asyncio.sleep(5)
        if request.action == "Crash":
            raise RuntimeError("secret internals")
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
        """A channel (close it) and a StationControl stub calling as `role` (None: no token)."""
        token = self.tokens[role] if role else None
        opened = create_channel(self.target, token=token, **channel)
        return opened, pb_grpc.StationControlStub(opened)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    servicer = FakeStationControl()
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(pb_grpc.add_StationControlServicer_to_server, servicer, STATION_CONTROL)
    port = await server.start()
    yield Running(server, f"127.0.0.1:{port}", tokens, servicer)
    await server.stop(0.2)
