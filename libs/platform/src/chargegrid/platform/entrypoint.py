"""`python -m chargegrid.<service> [migrate]`: the one entry point every service shares.

Without arguments the service runs until SIGTERM. `migrate` only brings the service's database
to the newest schema and exits, which is what the Helm chart's pre-install/pre-upgrade Job
runs so that replicas never race each other on a migration.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from chargegrid.platform.db import create_engine
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
log = get_logger(__name__)


async def migrate(database_url: str, script_location: Path) -> None:
    """Upgrade the database at `database_url` to the newest revision."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, script_location)
    finally:
        await engine.dispose()


def service_main(
    settings_factory: Callable[[], S],
    run: Callable[[S], Coroutine[Any, Any, None]],
    *,
    database: Callable[[S], str] | None = None,
    migrations: Path | None = None,
    argv: Sequence[str] | None = None,
) -> int:
    """Run the service, or its migrations with `migrate`; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    settings = settings_factory()
    if not args:
        asyncio.run(run(settings))
        return 0
    if args == ["migrate"] and database is not None and migrations is not None:
        configure_logging(settings.service_name, settings.log_level)
        asyncio.run(migrate(database(settings), migrations))
        log.info("database migrated", service=settings.service_name)
        return 0
    usage = "[migrate]" if migrations is not None else ""
    print(f"usage: python -m chargegrid.{settings.service_name} {usage}".rstrip(), file=sys.stderr)
    return 2
