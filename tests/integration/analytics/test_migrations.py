"""The analytics schema: built by its migration on an empty database, reversible to base."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from chargegrid.analytics.app import MIGRATIONS
from chargegrid.analytics.models import Base
from chargegrid.platform.db import create_engine
from chargegrid.platform.migrations import downgrade, upgrade

TABLES = {
    "meter_readings",
    "energy_windows",
    "energy_hours",
    "energy_days",
    "revenue_cdrs",
    "processed_events",
    "service_state",
    "closed_sessions",
    "state_changes",
    "uptime_exclusions",
    "state_stations",
    "state_ports",
    "utilization_days",
}


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migration_builds_the_models_schema_and_downgrades_to_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, MIGRATIONS)
        await upgrade(engine, MIGRATIONS)  # a restart finds nothing to do
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            assert tables >= TABLES
            assert await conn.run_sync(_differences) == []
        await downgrade(engine, MIGRATIONS)
        async with engine.connect() as conn:
            left = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert left & TABLES == set()
    finally:
        await engine.dispose()
