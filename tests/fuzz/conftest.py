"""One real `chargegrid dev` stack for every fuzz test: gateway, broker and all services.

The gateway's garbage limit and rate limit are lifted here: the fuzzer sends thousands of
bad frames on one connection on purpose, and what is tested is the answer to each frame and
the state behind it, not the disconnect policy (tests/integration/gateway covers that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargegrid.cli.stack import installed_services, spec_for
from tests.e2e.conftest import Stack

FUZZ_ENV = {
    "CHARGEGRID_GATEWAY_GARBAGE_LIMIT": "1000000",
    "CHARGEGRID_GATEWAY_MAX_MESSAGES_PER_S": "5000",
}


class FuzzStack(Stack):
    #: Every service's process once the stack was up (see `service_pids`), and how much the
    #: stack had printed by then (what the supervisor says later is about the fuzz).
    pids_at_start: dict[str, int]
    output_at_start: int

    def service_pids(self) -> dict[str, int]:
        """Every service's process now: a changed pid means the service crashed meanwhile."""
        return {spec.name: self.service_pid(spec.name) for spec in installed_services()}

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{spec_for('console', self.offset).http_port}"

    @property
    def roaming_url(self) -> str:
        return f"http://127.0.0.1:{spec_for('roaming', self.offset).http_port}"


@pytest.fixture(scope="package")
async def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FuzzStack]:
    running = FuzzStack(Path(tmp_path_factory.mktemp("fuzz")), env=FUZZ_ENV)
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token", 120)
        running.pids_at_start = running.service_pids()
        running.output_at_start = len(running.output())
        yield running
    finally:
        running.stop()
