"""`python -m bench.stack_restart`: how fast the `make run` stack recovers from SIGKILLs.

A `chargegrid dev` stack (durable broker, temp var dir, its own port offset). The broker is
SIGKILLed `RESTART_BROKER_KILLS` times (default 3, 12 s apart so the supervisor's backoff is
back at its first step): seconds until a new broker process runs and until an acks=all
produce is acknowledged again, and the lines the stack logged meanwhile. Then the session
service is SIGKILLed once its warm spare is ready: seconds until a new session process runs
and until a transaction started after the kill is a session (it consumes again). Prints JSON
(ADR 021 has the figures).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from chargegrid.platform.bus.topics import OCPP_FRAMES
from tests.e2e.conftest import Stack
from tests.e2e.test_lost_transactions_through_the_stack import RawStation, Services, unique


async def first_ack_after(stack: Stack, old_pid: int, killed: float) -> dict[str, float]:
    """Seconds from the kill until a new broker process runs and until a produce is acked."""
    marks: dict[str, float] = {}
    while "first_ack_s" not in marks and time.monotonic() - killed < 120:
        try:
            if "new_process_s" not in marks and stack.broker_pid() != old_pid:
                marks["new_process_s"] = round(time.monotonic() - killed, 2)
        except AssertionError:
            pass  # between the two processes
        if "new_process_s" in marks:
            producer = AIOKafkaProducer(
                bootstrap_servers=stack.bootstrap, acks="all", request_timeout_ms=1000
            )
            try:
                await asyncio.wait_for(producer.start(), 2)
                await asyncio.wait_for(producer.send_and_wait(OCPP_FRAMES, b"probe"), 2)
                marks["first_ack_s"] = round(time.monotonic() - killed, 2)
            except (KafkaError, TimeoutError, OSError):
                pass
            finally:
                await producer.stop()
        await asyncio.sleep(0.1)
    return marks


async def broker_kills(stack: Stack, kills: int) -> list[dict[str, float]]:
    found = []
    for _ in range(kills):
        lines_before = stack.output().count("\n")
        old = stack.broker_pid()
        killed = time.monotonic()
        os.kill(old, signal.SIGKILL)
        marks = await first_ack_after(stack, old, killed)
        await asyncio.sleep(12)
        marks["log_lines_12s_after"] = stack.output().count("\n") - lines_before
        found.append(marks)
    return found


async def session_kill(stack: Stack) -> dict[str, float]:
    await asyncio.to_thread(stack.wait_for_output, "session | warm spare ready", 180)
    services = Services(stack)
    station = RawStation(stack, "2.0.1", unique("RESTART"))
    await station.connect()
    try:
        old = stack.restart_service("session", signal.SIGKILL)
        killed = time.monotonic()
        transaction_id = unique("TX")
        await station.event201("Started", transaction_id, "SIMTAG0012", 100.0)
        marks: dict[str, float] = {}
        while "consuming_s" not in marks and time.monotonic() - killed < 120:
            if "new_process_s" not in marks:
                try:
                    if stack.service_pid("session") != old:
                        marks["new_process_s"] = round(time.monotonic() - killed, 2)
                except AssertionError:
                    pass
            if await services.session(station.id, transaction_id) is not None:
                marks["consuming_s"] = round(time.monotonic() - killed, 2)
            await asyncio.sleep(0.1)
        return marks
    finally:
        await station.close()
        await services.close()


async def main() -> dict[str, Any]:
    kills = int(os.environ.get("RESTART_BROKER_KILLS", "3"))
    with tempfile.TemporaryDirectory(prefix="chargegrid-restart-") as workdir:
        stack = Stack(Path(workdir), env={"CHARGEGRID_BROKER_STORAGE": "durable"})
        try:
            await asyncio.to_thread(stack.wait_for_output, "admin API token", 180)
            await asyncio.to_thread(stack.wait_for_output, "simulator id tokens", 120)
            return {
                "broker_kills": await broker_kills(stack, kills),
                "session_kill": await session_kill(stack),
                "load_average": os.getloadavg()[0],
            }
        finally:
            stack.stop()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
