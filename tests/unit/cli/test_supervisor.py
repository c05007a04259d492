"""The dev supervisor restarts a crashed service with growing pauses and stops cleanly."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from pathlib import Path

from chargegrid.cli.supervisor import ManagedProcess


async def test_a_crashing_process_is_restarted_with_backoff_and_its_lines_prefixed() -> None:
    lines: list[tuple[str, str, float]] = []
    crasher = ManagedProcess(
        "crasher",
        [sys.executable, "-c", "print('starting', flush=True); raise SystemExit(3)"],
        dict(os.environ),
        lambda name, line: lines.append((name, line, time.monotonic())),
        first_backoff_s=0.2,
        max_backoff_s=0.4,
    )
    await crasher.spawn()
    supervising = asyncio.create_task(crasher.supervise())
    while crasher.restarts < 3:
        await asyncio.sleep(0.05)
    await crasher.stop(grace_s=2)
    await asyncio.wait_for(supervising, 5)
    starts = [at for name, line, at in lines if line == "starting"]
    assert all(name == "crasher" for name, _, _ in lines)
    assert any("exited with code 3" in line for _, line, _ in lines)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert gaps[0] >= 0.18, "the first restart waits the first backoff"
    assert gaps[1] >= 0.38, "the next waits twice as long"


async def test_stop_ends_a_long_running_process_and_its_group() -> None:
    sleeper = ManagedProcess(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        dict(os.environ),
        lambda _n, _l: None,
    )
    await sleeper.spawn()
    supervising = asyncio.create_task(sleeper.supervise())
    pid = sleeper.pid
    assert pid is not None
    await sleeper.stop(grace_s=2)
    await asyncio.wait_for(supervising, 5)
    assert sleeper.restarts == 0
    await asyncio.sleep(0.1)
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or stat.read_text().split()[2] == "Z"


async def test_a_failing_readiness_check_after_a_restart_does_not_end_supervision() -> None:
    lines: list[str] = []

    async def never_ready() -> None:
        raise RuntimeError("broker did not answer")

    crasher = ManagedProcess(
        "broker",
        [sys.executable, "-c", "raise SystemExit(9)"],
        dict(os.environ),
        lambda _name, line: lines.append(line),
        after_start=never_ready,
        first_backoff_s=0.05,
        max_backoff_s=0.1,
    )
    await crasher.spawn()
    supervising = asyncio.create_task(crasher.supervise())
    while crasher.restarts < 3:
        await asyncio.sleep(0.05)
    assert not supervising.done()
    await crasher.stop(grace_s=2)
    await asyncio.wait_for(supervising, 5)
    assert any("not ready after restart: RuntimeError('broker did not answer')" in x for x in lines)


async def test_a_process_is_read_and_restarted_while_its_readiness_check_still_waits() -> None:
    lines: list[str] = []

    async def waits_long() -> None:  # a broker check with a 30 s timeout
        await asyncio.sleep(30)

    crasher = ManagedProcess(
        "broker",
        [sys.executable, "-c", "print('listening', flush=True); raise SystemExit(9)"],
        dict(os.environ),
        lambda _name, line: lines.append(line),
        after_start=waits_long,
        first_backoff_s=0.05,
        max_backoff_s=0.1,
    )
    await crasher.spawn()
    supervising = asyncio.create_task(crasher.supervise())
    began = time.monotonic()
    while crasher.restarts < 3:
        await asyncio.sleep(0.05)
    waited = time.monotonic() - began
    await crasher.stop(grace_s=2)
    await asyncio.wait_for(supervising, 5)
    assert waited < 15, "restarts must not wait for the readiness check"
    assert lines.count("listening") >= 3, "each run's output is read while it is getting ready"


SPARE = (
    "import sys, time; print('spare waiting', flush=True); "
    "sys.stdin.readline() or sys.exit(0); print('took over', flush=True); time.sleep(30)"
)


async def test_a_process_that_dies_after_running_a_while_is_replaced_by_its_warm_spare() -> None:
    lines: list[str] = []
    service = ManagedProcess(
        "session",
        [sys.executable, "-c", "import time; print('live', flush=True); time.sleep(30)"],
        dict(os.environ),
        lambda _name, line: lines.append(line),
        spare_argv=[sys.executable, "-c", SPARE],
        spare_after_s=0.1,
        stable_after_s=0.3,
        first_backoff_s=5.0,  # a fresh start would wait this long; the spare does not
    )
    await service.spawn()
    supervising = asyncio.create_task(service.supervise())
    while "spare waiting" not in lines:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    old = service.pid
    assert old is not None
    killed = time.monotonic()
    os.kill(old, 9)
    while "took over" not in lines:
        await asyncio.sleep(0.02)
    took_over_s = time.monotonic() - killed
    new = service.pid
    await service.stop(grace_s=2)
    await asyncio.wait_for(supervising, 5)
    assert new is not None
    assert new != old
    assert took_over_s < 2.0, "the spare takes over without the backoff"
    assert any("its warm spare takes over" in line for line in lines)
