"""OCPP 1.6 load generator, run as its own process so its CPU is not the server's.

Each connection boots once, then sends MeterValues CALLs (or the action BENCH_LOAD_ACTION
names: MeterValues, Heartbeat, StatusNotification, or Session: full charging sessions,
bench.session_cycle). `closed` mode sends the next CALL as
soon as the answer arrives (maximum throughput); `open` mode sends at a fixed total rate
whatever the answers do (latency at a given load, without coordinated omission hiding
queueing). `idle` mode boots the stations and holds them open. Stations connect with at most
BENCH_LOAD_WAVE (200) handshakes (and boots) in flight. Prints a JSON line once every
station is connected and booted (with how long that took, the generator's CPU seconds until
then, failed connections and boots not Accepted), and one with the result.
BENCH_LOAD_PRIME and BENCH_LOAD_WAIT_FOR_GO let a caller start the clock on a settled stack.

Usage: python -m bench.ocpp_load MODE URL CONNECTIONS SECONDS [RATE] [FIRST_INDEX] [SOURCE_IP]
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from bench.session_cycle import SessionCycle

SAMPLE: dict[str, Any] = {
    "timestamp": "2026-11-25T10:00:00Z",
    "sampledValue": [
        {"value": "12345.6", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
        {"value": "55", "measurand": "SoC", "unit": "Percent"},
    ],
}
METER_VALUES: dict[str, Any] = {"connectorId": 1, "transactionId": 42, "meterValue": [SAMPLE]}
BOOT = {"chargePointVendor": "Bench", "chargePointModel": "Load"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}


def meter_values_now() -> dict[str, Any]:
    """METER_VALUES stamped with the current second: a reading older than the station's
    boot would belong to a transaction the reboot ended, which the CSMS closes as lost."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {**METER_VALUES, "meterValue": [{**SAMPLE, "timestamp": stamp}]}


PAYLOADS: dict[str, Callable[[], dict[str, Any]]] = {
    "MeterValues": meter_values_now,
    "Heartbeat": dict,
    "StatusNotification": lambda: STATUS,
}
ACTION = os.environ.get("BENCH_LOAD_ACTION", "MeterValues")
WAVE = int(os.environ.get("BENCH_LOAD_WAVE", "200"))
SESSION = "Session"
#: BENCH_LOAD_PRIME=1: every station sends one call of the action before the load (not
#: counted), so what it starts downstream (a MeterValues opens a session) is done first.
PRIME = os.environ.get("BENCH_LOAD_PRIME") == "1"
#: BENCH_LOAD_WAIT_FOR_GO=1: after the booted line, wait for a line on stdin to start (the
#: caller lets the stack settle first).
WAIT_FOR_GO = os.environ.get("BENCH_LOAD_WAIT_FOR_GO") == "1"
#: BENCH_LOAD_SEND_TIMES=1: the result also lists each call's (intended) send time, seconds
#: from the load's start, beside its latency (`sent_at`), to find when the slow ones were.
#: `began_at` is the load's start on CLOCK_MONOTONIC (time.perf_counter and time.monotonic
#: of any process on Linux), so a caller can line the calls up with its own samples.
SEND_TIMES = os.environ.get("BENCH_LOAD_SEND_TIMES") == "1"


class _Repeat:
    """The same action every time (MeterValues, Heartbeat, StatusNotification)."""

    completed = 0
    refused: dict[str, int] = {}

    def next_call(self) -> tuple[str, dict[str, Any]]:
        return ACTION, PAYLOADS[ACTION]()

    def answered(self, action: str, reply: list[Any]) -> None:
        return None


def _cycles(count: int) -> list[SessionCycle] | list[_Repeat]:
    if ACTION == SESSION:
        return [SessionCycle() for _ in range(count)]
    return [_Repeat() for _ in range(count)]


def _by_action(cycles: list[SessionCycle] | list[_Repeat], sent: dict[str, int]) -> dict[str, Any]:
    """What a Session load did: CALLs per action, sessions completed, refusals."""
    if ACTION != SESSION:
        return {}
    refused: dict[str, int] = {}
    for cycle in cycles:
        for key, n in cycle.refused.items():
            refused[key] = refused.get(key, 0) + n
    return {
        "calls_by_action": sent,
        "sessions_completed": sum(c.completed for c in cycles),
        "refused": refused,
    }


#: The first answer that was not a CALLRESULT, for the result line (what went wrong).
FIRST_ERROR: list[Any] = []


async def _answer(
    ws: ClientConnection, uid: str, action: str, payload: dict[str, Any]
) -> list[Any]:
    """The station's CALL and the CSMS's answer to it."""
    await ws.send(orjson.dumps([2, uid, action, payload]).decode())
    reply = orjson.loads(await ws.recv())
    while reply[0] == 2:  # the CSMS calls the station (after a boot): refuse, keep waiting
        await ws.send(orjson.dumps([4, reply[1], "NotSupported", "load generator", {}]).decode())
        reply = orjson.loads(await ws.recv())
    if reply[0] != 3 and not FIRST_ERROR:
        FIRST_ERROR.append(reply)
    return list(reply)


#: Boot answers other than Accepted, by status ("CALLERROR" for an error answer).
NOT_ACCEPTED: dict[str, int] = {}


async def _open(url: str, index: int, source: str | None) -> ClientConnection:
    ws = await connect(
        f"{url}/BENCH-{index:06d}",
        subprotocols=["ocpp1.6"],
        compression=None,
        ping_interval=None,
        open_timeout=60,
        **({"local_addr": (source, 0)} if source else {}),
    )
    reply = await _answer(ws, "boot", "BootNotification", BOOT)
    status = reply[2].get("status") if reply[0] == 3 else "CALLERROR"
    if status != "Accepted":
        NOT_ACCEPTED[str(status)] = NOT_ACCEPTED.get(str(status), 0) + 1
    return ws


async def closed_loop(conns: list[ClientConnection], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    sent_at: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    cycles = _cycles(len(conns))
    sent: dict[str, int] = {}

    async def drive(ws: ClientConnection, n: int) -> None:
        nonlocal errors
        seq = 0
        while time.perf_counter() < deadline:
            seq += 1
            started = time.perf_counter()
            action, payload = cycles[n].next_call()
            reply = await _answer(ws, f"{n}-{seq}", action, payload)
            latencies.append(time.perf_counter() - started)
            sent_at.append(started - begun)
            cycles[n].answered(action, reply)
            sent[action] = sent.get(action, 0) + 1
            errors += reply[0] != 3

    begun = time.perf_counter()
    await asyncio.gather(*(drive(ws, n) for n, ws in enumerate(conns)))
    return {
        "calls": len(latencies),
        "errors": errors,
        "elapsed_s": time.perf_counter() - begun,
        "latencies": latencies,
        **({"sent_at": sent_at, "began_at": begun} if SEND_TIMES else {}),
        **_by_action(cycles, sent),
    }


async def open_loop(conns: list[ClientConnection], seconds: float, rate: float) -> dict[str, Any]:
    """Each connection sends at rate/len(conns) on a fixed schedule (one call in flight)."""
    latencies: list[float] = []
    sent_at: list[float] = []
    errors = 0
    late = 0
    interval = len(conns) / rate
    cycles = _cycles(len(conns))
    sent: dict[str, int] = {}

    async def drive(ws: ClientConnection, n: int) -> None:
        nonlocal errors, late
        begin = time.perf_counter() + (n / len(conns)) * interval
        count = int(seconds / interval)
        for seq in range(count):
            scheduled = begin + seq * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late += 1
            action, payload = cycles[n].next_call()
            reply = await _answer(ws, f"{n}-{seq}", action, payload)
            latencies.append(time.perf_counter() - scheduled)  # from the intended send time
            sent_at.append(scheduled - started)
            cycles[n].answered(action, reply)
            sent[action] = sent.get(action, 0) + 1
            errors += reply[0] != 3

    started = time.perf_counter()
    await asyncio.gather(*(drive(ws, n) for n, ws in enumerate(conns)))
    return {
        "calls": len(latencies),
        "errors": errors,
        "late_sends": late,
        "elapsed_s": time.perf_counter() - started,
        "latencies": latencies,
        **({"sent_at": sent_at, "began_at": started} if SEND_TIMES else {}),
        **_by_action(cycles, sent),
    }


async def main(argv: list[str]) -> dict[str, Any]:
    mode, url, count, seconds = argv[0], argv[1], int(argv[2]), float(argv[3])
    rate = float(argv[4]) if len(argv) > 4 else 0.0
    first = int(argv[5]) if len(argv) > 5 else 0
    source = argv[6] if len(argv) > 6 else None
    conns: list[ClientConnection] = []
    failed: dict[str, int] = {}
    connecting = time.perf_counter()
    # At most WAVE handshakes in flight, a new one as soon as one is done: a storm of
    # handshakes queues at the server instead of all waiting at once and timing out together.
    in_flight = asyncio.Semaphore(WAVE)

    async def opened(index: int) -> ClientConnection:
        async with in_flight:
            return await _open(url, index, source)

    outcomes = await asyncio.gather(
        *(opened(i) for i in range(first, first + count)), return_exceptions=True
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            failed[type(outcome).__name__] = failed.get(type(outcome).__name__, 0) + 1
        else:
            conns.append(outcome)
    # Told before any load, so a caller can leave the handshakes out of what it measures.
    booted = {
        "connected": len(conns),
        "connect_s": round(time.perf_counter() - connecting, 2),
        "connect_cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 2),
        "failed_connections": failed,
        "boots_not_accepted": NOT_ACCEPTED,
    }
    if PRIME and ACTION != SESSION:
        primed = await asyncio.gather(
            *(_answer(ws, "prime", ACTION, PAYLOADS[ACTION]()) for ws in conns)
        )
        booted["primed"] = sum(1 for reply in primed if reply[0] == 3)
    print(orjson.dumps(booted).decode(), flush=True)
    if WAIT_FOR_GO:
        await asyncio.to_thread(sys.stdin.readline)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.perf_counter()
    if mode == "closed":
        result = await closed_loop(conns, seconds)
    elif mode == "open":
        result = await open_loop(conns, seconds, rate)
    else:
        await asyncio.sleep(seconds)
        result = {"connected": len(conns)}
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter() - wall_before
    used = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    result["generator_cpu_percent"] = round(100 * used / wall, 1)
    if FIRST_ERROR:
        result["first_error"] = FIRST_ERROR[0]
    await asyncio.gather(*(ws.close() for ws in conns))
    return result


if __name__ == "__main__":
    print(orjson.dumps(asyncio.run(main(sys.argv[1:]))).decode(), flush=True)
