"""A migrated database per test (SQLite and PostgreSQL), and the Stations API served in
process on a free port, talking to a fake gateway StationControl over real gRPC."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chargegrid.api.gateway.v1 import station_control_pb2_grpc as ctl_grpc
from chargegrid.api.stations.v1 import stations_pb2_grpc as pb_grpc
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.platform.migrations import upgrade
from chargegrid.stations.api.base import ApiDeps
from chargegrid.stations.api.servicer import SERVICE_NAME, StationsService
from chargegrid.stations.app import MIGRATIONS
from chargegrid.stations.gateway import GatewayCommands
from chargegrid.stations.policy import BootPolicy
from chargegrid.stations.reconcile import BackgroundTasks, Reconciler
from chargegrid.stations.watch import StatusHub
from tests.integration.stations.builders import FakeClock, FakeStationControl

STATION_CONTROL = "chargegrid.api.gateway.v1.StationControl"


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
class Gateway:
    control: FakeStationControl
    target: str
    token: str


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    registry = TokenRegistry(tmp_path / "gateway-tokens.json")
    token = registry.add("stations", Role.SERVICE)
    control = FakeStationControl()
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(ctl_grpc.add_StationControlServicer_to_server, control, STATION_CONTROL)
    port = await server.start()
    yield Gateway(control, f"127.0.0.1:{port}", token)
    await server.stop(0.2)


@dataclass
class Api:
    deps: ApiDeps
    target: str
    tokens: dict[Role, str]
    channels: list[grpc.aio.Channel]

    def as_role(self, role: Role | None = Role.OPERATOR) -> Any:
        channel = create_channel(self.target, token=self.tokens[role] if role else None)
        self.channels.append(channel)
        return pb_grpc.StationsStub(channel)


async def serve_api(
    tmp_path: Path, db: Database, clock: FakeClock, gateway: Gateway, policy: str
) -> tuple[GrpcServer, Api, grpc.aio.Channel]:
    registry = TokenRegistry(tmp_path / f"tokens-{uuid.uuid4().hex[:6]}.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    channel = create_channel(gateway.target, token=gateway.token, max_attempts=1)
    commands = GatewayCommands(channel, timeout_s=5)
    counter = iter(range(1, 1_000_000))
    deps = ApiDeps(
        sessions=db.sessions,
        clock=clock,
        new_id=lambda: f"gen-{next(counter)}",
        policy=BootPolicy(policy, heartbeat_interval_s=300, retry_interval_s=60),
        commands=commands,
        reconciler=Reconciler(db.sessions, commands, clock),
        tasks=BackgroundTasks(),
        hub=StatusHub(),
    )
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(pb_grpc.add_StationsServicer_to_server, StationsService(deps), SERVICE_NAME)
    port = await server.start()
    return server, Api(deps, f"127.0.0.1:{port}", tokens, []), channel


@pytest.fixture
def unknown_station_policy() -> str:
    return "pending"


@pytest.fixture
async def api(
    tmp_path: Path, db: Database, clock: FakeClock, gateway: Gateway, unknown_station_policy: str
) -> AsyncIterator[Api]:
    server, running, channel = await serve_api(tmp_path, db, clock, gateway, unknown_station_policy)
    yield running
    await running.deps.tasks.close()
    for opened in running.channels:
        await opened.close()
    await channel.close()
    await server.stop(0.2)
