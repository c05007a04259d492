"""Fixtures every test layer shares: the embedded broker and the two storage engines.

The broker is the same Tansu binary `make run` uses, started once per test session on a free
port. PostgreSQL tests run against the server on this machine; when CI sets
CHARGEGRID_TEST_POSTGRES_URL they must run, so an unreachable server fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    embedded = EmbeddedBroker(port=free_port(), log_path=log)
    await embedded.start()
    yield embedded
    await embedded.stop()


@pytest.fixture
def kafka_bootstrap(broker: EmbeddedBroker) -> str:
    return broker.bootstrap_servers


def _postgres_base_url() -> tuple[str, bool]:
    configured = os.environ.get("CHARGEGRID_TEST_POSTGRES_URL")
    return (configured or DEFAULT_POSTGRES_URL), configured is not None


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import asyncpg

    base, required = _postgres_base_url()
    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    try:
        admin = await asyncpg.connect(plain, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if required:
            pytest.fail(f"CHARGEGRID_TEST_POSTGRES_URL is set but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {plain}: {exc}")
    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield plain.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("postgres_url"))
