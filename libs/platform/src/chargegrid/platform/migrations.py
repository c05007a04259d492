"""Run a service's Alembic migrations at start, and the env.py every service shares.

Each service keeps its revisions in `services/<name>/migrations/`. At start the service calls
`upgrade(engine, script_location)`, which runs Alembic on the service's own async engine, so
SQLite and PostgreSQL take the same path. A service's `env.py` is two lines: it imports its
table metadata and calls `run_env(metadata)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from chargegrid.platform.db import create_engine


def alembic_config(script_location: Path, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(connection: Connection, config: Config, revision: str, downgrade: bool) -> None:
    config.attributes["connection"] = connection
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


async def upgrade(engine: AsyncEngine, script_location: Path, revision: str = "head") -> None:
    """Bring the database behind `engine` to `revision` (default: the newest)."""
    config = alembic_config(script_location)
    async with engine.begin() as connection:
        await connection.run_sync(_run, config, revision, False)


async def downgrade(engine: AsyncEngine, script_location: Path, revision: str = "base") -> None:
    """Step the database back to `revision` (default: empty)."""
    config = alembic_config(script_location)
    async with engine.begin() as connection:
        await connection.run_sync(_run, config, revision, True)


def _configure_and_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData) -> None:
    """Body of a service's migrations/env.py: use the given connection, else the URL."""
    connection: Any = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, metadata)
        return
    import asyncio

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url")

    async def _offline_engine_run() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run, metadata)
        await engine.dispose()

    asyncio.run(_offline_engine_run())
