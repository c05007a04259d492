"""The database bench_stack's services use: SQLite files (the default) or PostgreSQL.

BENCH_STACK_DATABASE=postgres gives every service that stores anything its own fresh
database on the server of CHARGEGRID_TEST_POSTGRES_URL (postgresql://postgres@127.0.0.1:5432/test
when unset), through CHARGEGRID_<SERVICE>_DATABASE_URL, and drops them afterwards. Each
service migrates its own database at start-up, as in production.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
#: Services of the stack with a database.
STORING = ("stations", "authorization", "session", "billing", "firmware")


def database_from_env() -> str:
    kind = os.environ.get("BENCH_STACK_DATABASE", "sqlite").lower()
    if kind in ("postgresql", "postgres"):
        return "postgres"
    if kind != "sqlite":
        raise SystemExit(f"BENCH_STACK_DATABASE={kind!r}: expected sqlite or postgres")
    return kind


@asynccontextmanager
async def service_databases(kind: str) -> AsyncIterator[dict[str, str]]:
    """Environment variables that point each service at its database (none for SQLite)."""
    if kind == "sqlite":
        yield {}
        return
    import asyncpg

    base = os.environ.get("CHARGEGRID_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(plain, timeout=5)
    run = uuid.uuid4().hex[:8]
    names = {service: f"cg_stack_{run}_{service}" for service in STORING}
    try:
        for name in names.values():
            await admin.execute(f'CREATE DATABASE "{name}"')
        server = plain.rsplit("/", 1)[0]
        yield {
            f"CHARGEGRID_{service.upper()}_DATABASE_URL": f"{server}/{name}"
            for service, name in names.items()
        }
    finally:
        for name in names.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
