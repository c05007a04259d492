"""A migrated database per test (SQLite and PostgreSQL), the Firmware API served in process
on a free port with its HTTP upload endpoint, talking to a fake gateway over real gRPC."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc
from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as ctl_grpc
from chargegrid.firmware.api import SERVICE_NAME, FirmwareService
from chargegrid.firmware.app import MIGRATIONS
from chargegrid.firmware.campaigns import Campaigns
from chargegrid.firmware.gateway import GatewayCommands
from chargegrid.firmware.http import HttpServer, Uploads, create_http_app
from chargegrid.firmware.updates import ApiDeps
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.platform.migrations import upgrade

STATION_CONTROL = "chargegrid.api.gateway.v1.StationControl"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    engine = create_engine(database_url)
    await upgrade(engine, MIGRATIONS)
    yield Database(engine, session_factory(engine))
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class FakeStationControl(ctl_grpc.StationControlServicer):
    """The gateway as the firmware service sees it: stations in `online` answer with their
    status, others are NOT_FOUND (offline), as the real gateway does."""

    online: dict[str, str] = field(default_factory=dict)
    updates: list[ctl.UpdateFirmwareRequest] = field(default_factory=list)
    log_requests: list[ctl.GetLogsRequest] = field(default_factory=list)

    async def UpdateFirmware(self, request: Any, context: Any) -> ctl.CommandReply:
        self.updates.append(request)
        if request.station_id not in self.online:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        return ctl.CommandReply(status=self.online[request.station_id])

    async def GetLogs(self, request: Any, context: Any) -> ctl.GetLogsReply:
        self.log_requests.append(request)
        if request.station_id not in self.online:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        return ctl.GetLogsReply(status=self.online[request.station_id], file_name="cp.log")


@dataclass
class Gateway:
    control: FakeStationControl
    target: str
    token: str


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    registry = TokenRegistry(tmp_path / "gateway-tokens.json")
    token = registry.add("firmware", Role.SERVICE)
    control = FakeStationControl()
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(ctl_grpc.add_StationControlServicer_to_server, control, STATION_CONTROL)
    port = await server.start()
    yield Gateway(control, f"127.0.0.1:{port}", token)
    await server.stop(0.2)


@dataclass
class Api:
    deps: ApiDeps
    campaigns: Campaigns
    target: str
    base_url: str
    uploads_dir: Path
    tokens: dict[Role, str]
    channels: list[grpc.aio.Channel]

    def as_role(self, role: Role | None = Role.OPERATOR) -> Any:
        channel = create_channel(self.target, token=self.tokens[role] if role else None)
        self.channels.append(channel)
        return pb_grpc.FirmwareStub(channel)


@pytest.fixture
async def api(
    tmp_path: Path, db: Database, clock: FakeClock, gateway: Gateway
) -> AsyncIterator[Api]:
    registry = TokenRegistry(tmp_path / f"tokens-{uuid.uuid4().hex[:6]}.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    uploads_dir = tmp_path / "firmware-uploads"
    http = HttpServer(
        create_http_app(Uploads(db.sessions, uploads_dir, clock), registry), "127.0.0.1", 0
    )
    base_url = f"http://127.0.0.1:{await http.start()}"
    channel = create_channel(gateway.target, token=gateway.token, max_attempts=1)
    counter = iter(range(1, 1_000_000))
    ids = iter(range(1, 1_000_000))
    deps = ApiDeps(
        sessions=db.sessions,
        commands=GatewayCommands(channel, timeout_s=5),
        base_url=lambda: base_url,
        clock=clock,
        new_id=lambda: f"id-{next(ids):06d}",
        new_request_id=lambda: 100 + next(counter),
    )
    server = GrpcServer("127.0.0.1", 0, registry)
    campaigns = Campaigns(deps, watch_poll_s=0.05)
    service = FirmwareService(deps, campaigns)
    server.add(pb_grpc.add_FirmwareServicer_to_server, service, SERVICE_NAME)
    port = await server.start()
    running = Api(deps, campaigns, f"127.0.0.1:{port}", base_url, uploads_dir, tokens, [])
    yield running
    for opened in running.channels:
        await opened.close()
    await channel.close()
    await server.stop(0.2)
    await http.stop()
