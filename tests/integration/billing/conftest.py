"""A migrated billing database per test (SQLite and PostgreSQL), the handler wired to it,
and the Billing API served in process on a free port."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chargegrid.api.billing.v1 import billing_pb2_grpc as pb_grpc
from chargegrid.billing.api import SERVICE_NAME, ApiDeps, BillingService
from chargegrid.billing.app import MIGRATIONS
from chargegrid.billing.handlers import SessionEvents
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.platform.migrations import upgrade
from tests.integration.billing.builders import FakeClock, FixedLookups


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


def counter(prefix: str) -> Any:
    numbers = itertools.count(1)
    return lambda: f"{prefix}{next(numbers)}"


@pytest.fixture
def lookups() -> FixedLookups:
    return FixedLookups()


@pytest.fixture
def events(db: Database, clock: FakeClock, lookups: FixedLookups) -> SessionEvents:
    return SessionEvents(
        db.sessions, lookups, clock, counter("CDR-"), EnvelopeFactory("billing/test", clock=clock)
    )


@dataclass
class Api:
    target: str
    tokens: dict[Role, str]
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    def as_role(self, role: Role = Role.OPERATOR) -> Any:
        channel = create_channel(self.target, token=self.tokens[role], max_attempts=1)
        self.channels.append(channel)
        return pb_grpc.BillingStub(channel)


@pytest.fixture
async def api(tmp_path: Path, db: Database, clock: FakeClock) -> AsyncIterator[Api]:
    registry = TokenRegistry(tmp_path / "tokens.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    server = GrpcServer("127.0.0.1", 0, registry)
    deps = ApiDeps(db.sessions, clock, counter("id-"))
    server.add(pb_grpc.add_BillingServicer_to_server, BillingService(deps), SERVICE_NAME)
    port = await server.start()
    running = Api(f"127.0.0.1:{port}", tokens)
    yield running
    for channel in running.channels:
        await channel.close()
    await server.stop(0.2)
