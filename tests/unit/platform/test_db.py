"""Storage plumbing: URL translation, engines on both databases, migrations both ways."""

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from chargegrid.platform.db import async_url, create_engine, session_factory
from chargegrid.platform.migrations import downgrade, upgrade

SAMPLE_MIGRATIONS = Path(__file__).parents[2] / "fixtures" / "sample_migrations"


def test_no_url_means_a_sqlite_file_per_service_under_var(tmp_path: Path) -> None:
    assert async_url(None, "stations", tmp_path) == f"sqlite+aiosqlite:///{tmp_path}/stations.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_plain_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert async_url(given) == expected


def test_a_url_without_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        async_url("var/x.db")


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_migrations_upgrade_an_empty_database_and_are_reversible(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, SAMPLE_MIGRATIONS)
        assert {"widgets", "alembic_version"} <= await _tables(engine)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO widgets (name) VALUES ('w1')"))
        async with sessions() as session:
            assert (await session.execute(text("SELECT count(*) FROM widgets"))).scalar() == 1
        await upgrade(engine, SAMPLE_MIGRATIONS)  # a second start changes nothing
        await downgrade(engine, SAMPLE_MIGRATIONS)
        assert "widgets" not in await _tables(engine)
    finally:
        await engine.dispose()
