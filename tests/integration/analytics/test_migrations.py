"""The analytics schema: built by its migration on an empty database, reversible to base."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from chargegrid.analytics.app import MIGRATIONS
from chargegrid.analytics.models import Base
from chargegrid.platform.bus.topics import TRANSACTION_EVENTS
from chargegrid.platform.db import create_engine
from chargegrid.platform.migrations import downgrade, upgrade
from tests.integration.analytics.conftest import open_analytics
from tests.integration.analytics.reference import generate

TABLES = {
    "meter_readings",
    "energy_windows",
    "energy_hours",
    "energy_days",
    "revenue_cdrs",
    "processed_events",
    "service_state",
    "closed_sessions",
    "refused_authorizations",
    "session_tokens",
    "energy_site_buckets",
    "energy_network_buckets",
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


async def _rollups(engine: AsyncEngine) -> dict[tuple[object, ...], float]:
    async with engine.connect() as conn:
        site = await conn.execute(
            text("SELECT site_id, grain, bucket_start, label, wh FROM energy_site_buckets")
        )
        network = await conn.execute(
            text("SELECT grain, bucket_start, label, wh FROM energy_network_buckets")
        )
        return {
            **{("site", *row[:-1]): row[-1] for row in site.all()},
            **{("network", *row[:-1]): row[-1] for row in network.all()},
        }


async def test_the_rollup_migration_fills_the_rollups_from_the_windows_kept_before_it(
    database_url: str,
) -> None:
    month = generate(days=5)
    analytics = await open_analytics(database_url)
    try:
        await analytics.feed(TRANSACTION_EVENTS, month.transaction_events)
        kept_by_ingest = await _rollups(analytics.engine)
        assert len(kept_by_ingest) > 100
        await downgrade(analytics.engine, MIGRATIONS, "0002")  # before the rollups
        await upgrade(analytics.engine, MIGRATIONS)
        backfilled = await _rollups(analytics.engine)
        assert backfilled.keys() == kept_by_ingest.keys()
        assert backfilled == pytest.approx(kept_by_ingest, rel=1e-9, abs=1e-6)
    finally:
        await analytics.engine.dispose()
