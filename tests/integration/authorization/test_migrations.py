"""The schema goes up from empty and back down to nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from chargegrid.authorization.app import MIGRATIONS
from chargegrid.authorization.models import metadata
from chargegrid.platform.db import create_engine
from chargegrid.platform.migrations import downgrade, upgrade


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_creates_every_table_and_downgrade_removes_them(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, MIGRATIONS)
        assert set(metadata.tables) <= await _tables(engine)
        await downgrade(engine, MIGRATIONS)
        assert await _tables(engine) <= {"alembic_version"}
        await upgrade(engine, MIGRATIONS)
        assert set(metadata.tables) <= await _tables(engine)
    finally:
        await engine.dispose()
