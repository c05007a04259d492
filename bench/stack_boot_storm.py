"""A boot storm through the whole stack: many 1.6 stations connecting and booting at once.

Open files are capped at 20,000 per process here, so the gateway can hold ~19,900
stations and the stations come from several generator processes (bench.ocpp_load `idle`
mode, 5,000 each, all on the generator's core, each keeping BENCH_STORM_IN_FLIGHT (100)
handshakes and boots in flight). Reported: seconds from starting the generators until every
one has its stations booted, failed connections and boots not Accepted, services whose
process changed (restarted), CPU seconds of every process of the stack and of the
generators until then (the stack shares one core, the generators the other), and peak
memory of every process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

PER_PROCESS = 5_000
#: Handshakes (and boots) each generator keeps in flight (BENCH_STORM_IN_FLIGHT).
IN_FLIGHT = os.environ.get("BENCH_STORM_IN_FLIGHT", "100")
HOLD_S = 5.0
FIRST_INDEX = 500_000


async def _generator(
    url: str, count: int, first: int, core: str, repo: Path
) -> tuple[dict[str, Any], float]:
    """One generator's booted line, and when it came (monotonic)."""
    process = await asyncio.create_subprocess_exec(
        "taskset", "-c", core, sys.executable, "-m", "bench.ocpp_load",
        "idle", url, str(count), str(HOLD_S), "0", str(first),
        stdout=asyncio.subprocess.PIPE,
        cwd=repo,
        env={**os.environ, "BENCH_LOAD_WAVE": IN_FLIGHT},
    )  # fmt: skip
    assert process.stdout is not None
    booted: dict[str, Any] = {}
    at = 0.0
    async for line in process.stdout:
        if line.strip() and not booted:
            booted, at = orjson.loads(line), time.monotonic()
    await process.wait()
    if process.returncode != 0 or not booted:
        return {"connected": 0, "generator_failed": process.returncode}, time.monotonic()
    return booted, at


async def boot_storm(
    url: str,
    stations: int,
    core: str,
    repo: Path,
    pids: Callable[[], dict[str, int]],
    peak_rss_mb: Callable[[int], float],
    cpu_s: Callable[[int], float],
) -> dict[str, Any]:
    before = pids()
    cpu_before = {name: cpu_s(pid) for name, pid in before.items()}
    started = time.monotonic()
    counts = [min(PER_PROCESS, stations - start) for start in range(0, stations, PER_PROCESS)]
    outcomes = await asyncio.gather(
        *(
            _generator(url, n, FIRST_INDEX + i * PER_PROCESS, core, repo)
            for i, n in enumerate(counts)
        )
    )
    connected = sum(int(booted.get("connected", 0)) for booted, _ in outcomes)
    failed: dict[str, int] = {}
    not_accepted: dict[str, int] = {}
    for booted, _ in outcomes:
        for kind, n in booted.get("failed_connections", {}).items():
            failed[kind] = failed.get(kind, 0) + n
        for status, n in booted.get("boots_not_accepted", {}).items():
            not_accepted[status] = not_accepted.get(status, 0) + n
    errors = (stations - connected) + sum(not_accepted.values())
    last = max(at for _, at in outcomes)
    after = pids()
    cpu = {n: round(cpu_s(pid) - cpu_before.get(n, 0.0), 1) for n, pid in sorted(after.items())}
    return {
        "stations": stations,
        "generators": len(counts),
        "booted_connections": connected,
        "all_accepted_s": round(last - started, 2) if errors == 0 else None,
        "until_last_generator_booted_s": round(last - started, 2),
        "errors": errors,
        "failed_connections": failed,
        "boots_not_accepted": not_accepted,
        "cpu_s_until_the_last_booted": cpu,
        "generators_cpu_s": round(sum(float(b.get("connect_cpu_s", 0)) for b, _ in outcomes), 1),
        "in_flight_per_generator": int(IN_FLIGHT),
        "services_restarted": sorted(n for n, pid in before.items() if after.get(n) != pid),
        "peak_rss_mb": {name: peak_rss_mb(pid) for name, pid in sorted(after.items())},
    }
