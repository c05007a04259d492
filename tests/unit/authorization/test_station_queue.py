"""Background station jobs: one per station at a time, coalesced, bounded."""

from __future__ import annotations

import asyncio

from chargegrid.authorization.station_queue import BOOT, DIFFERENTIAL, FULL, StationQueue


async def test_a_station_queued_while_busy_runs_once_more_with_the_strongest_kind() -> None:
    ran: list[tuple[str, str]] = []
    release = asyncio.Event()

    async def work(station_id: str, kind: str) -> None:
        ran.append((station_id, kind))
        await release.wait()

    queue = StationQueue(work)
    queue.submit("CP-1", DIFFERENTIAL)
    await asyncio.sleep(0)
    for kind in (DIFFERENTIAL, FULL, BOOT, DIFFERENTIAL):
        queue.submit("CP-1", kind)
    release.set()
    await queue.idle()
    assert ran == [("CP-1", DIFFERENTIAL), ("CP-1", FULL)]


async def test_no_more_than_the_bound_run_at_once_and_failures_do_not_stop_the_queue() -> None:
    running, peak = 0, 0
    done: list[str] = []

    async def work(station_id: str, kind: str) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        if station_id == "CP-3":
            raise RuntimeError("station misbehaved")
        done.append(station_id)

    queue = StationQueue(work, max_concurrent=2)
    for n in range(8):
        queue.submit(f"CP-{n}")
    await queue.idle()
    assert peak == 2
    assert sorted(done) == sorted(f"CP-{n}" for n in range(8) if n != 3)
