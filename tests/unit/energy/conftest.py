"""A migrated SQLite database and a site controller wired to in-memory fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.energy.app import MIGRATIONS
from chargegrid.energy.controller import ControllerDeps, SiteController
from chargegrid.energy.publisher import MemoryPublisher
from chargegrid.energy.settings import EnergySettings
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.migrations import upgrade
from tests.unit.energy.fakes import FakeClock, FakeDirectory, FakeStationControl


@dataclass
class Rig:
    sessions: async_sessionmaker[AsyncSession]
    directory: FakeDirectory
    control: FakeStationControl
    publisher: MemoryPublisher
    clock: FakeClock
    deps: ControllerDeps

    def controller(self, site_id: str = "S1") -> SiteController:
        return SiteController(site_id, self.deps)

    async def add(self, *rows: object) -> None:
        async with self.sessions() as session, session.begin():
            session.add_all(rows)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    settings = EnergySettings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'energy.db'}",
        profile_timeout_s=0.05,
        debounce_s=0,
    )
    engine = create_engine(settings.database)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    directory, control, publisher, clock = (
        FakeDirectory(),
        FakeStationControl(),
        MemoryPublisher(),
        FakeClock(),
    )
    deps = ControllerDeps(sessions, directory, control, publisher, clock, settings)
    yield Rig(sessions, directory, control, publisher, clock, deps)
    await engine.dispose()
