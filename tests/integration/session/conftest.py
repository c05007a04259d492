"""A migrated session database per test (SQLite and PostgreSQL) and the handlers on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.migrations import upgrade
from chargegrid.session.app import MIGRATIONS
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.models import OutboxRow
from chargegrid.session.outbox import Outbox
from tests.integration.session.builders import FakeClock, session_events


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def outbox(self) -> list[tuple[str, pb.Session]]:
        """What the handlers decided to emit, in order."""
        async with self.sessions() as db:
            rows = (await db.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars()
            return session_events([row.envelope for row in rows])


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    engine = create_engine(database_url)
    await upgrade(engine, MIGRATIONS)
    yield Database(engine, session_factory(engine))
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _no_site(_station_id: str) -> str:
    return ""


@pytest.fixture
def events(db: Database, clock: FakeClock) -> SessionEvents:
    async def site_of(station_id: str) -> str:
        return "site-1" if station_id == "CP-1" else ""

    return SessionEvents(
        db.sessions,
        Outbox(EnvelopeFactory("session/test", clock=clock)),
        clock,
        sites=site_of,
        update_interval_s=30,
    )


async def feed(events: SessionEvents, *envelopes: Envelope) -> None:
    for envelope in envelopes:
        await events(envelope)
