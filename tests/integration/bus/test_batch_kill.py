"""A batch consumer killed with SIGKILL in the middle of its work loses and doubles nothing.

The worker process commits each batch to its database and then pauses before Kafka learns
the offsets; it is killed in that window, restarted in the same group, and the database must
hold every event exactly once, each station's in the order produced.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import func, select

from chargegrid.platform.db import create_engine
from tests.integration.bus.batch_worker import applied
from tests.integration.bus.conftest import BusKit, wait_until

REPO = Path(__file__).resolve().parents[3]
STATIONS, PER_STATION = 4, 50


def _start_worker(bus: BusKit, group: str, url: str, progress: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.integration.bus.batch_worker"]
    return subprocess.Popen(
        [*command, bus.bootstrap, bus.topic, group, url, str(progress)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _batches_done(progress: Path) -> int:
    return len(progress.read_text().split()) if progress.exists() else 0


async def _rows(url: str) -> list[tuple[str, str, int]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            query = select(applied.c.event_id, applied.c.station_id, applied.c.number)
            return [tuple(row) for row in await connection.execute(query.order_by(applied.c.id))]
    finally:
        await engine.dispose()


async def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(applied)) or 0)
    finally:
        await engine.dispose()


async def test_a_batch_consumer_killed_mid_batch_loses_and_doubles_nothing(
    bus: BusKit, database_url: str, tmp_path: Path
) -> None:
    sent = [
        bus.an_event(f"CP-kill-{s}", connector_id=n)
        for n in range(1, PER_STATION + 1)
        for s in range(STATIONS)
    ]
    await bus.producer.publish_batch([(bus.topic, envelope) for envelope in sent])
    group, progress = f"group-{uuid.uuid4().hex[:8]}", tmp_path / "progress"

    worker = _start_worker(bus, group, database_url, progress)
    try:
        await wait_until(lambda: _batches_done(progress) >= 2, timeout_s=60)
        os.kill(worker.pid, signal.SIGKILL)  # inside the pause: committed in the DB only
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    stored_at_kill = await _count(database_url)
    assert 0 < stored_at_kill < len(sent), "the kill must land in the middle of the work"

    restarted = _start_worker(bus, group, database_url, tmp_path / "progress-2")
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while await _count(database_url) < len(sent):
            assert asyncio.get_running_loop().time() < deadline, "events lost after restart"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # time for a wrong double to show up
        rows = await _rows(database_url)
        handled_again = sum(map(int, (tmp_path / "progress-2").read_text().split()))
    finally:
        restarted.terminate()
        restarted.wait(10)

    assert handled_again > len(sent) - stored_at_kill, "some stored events came again"
    assert sorted(event_id for event_id, _, _ in rows) == sorted(e.event_id for e in sent)
    for s in range(STATIONS):
        numbers = [number for _, station, number in rows if station == f"CP-kill-{s}"]
        assert numbers == list(range(1, PER_STATION + 1))
