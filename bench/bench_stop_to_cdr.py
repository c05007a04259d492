"""From a station ending its transaction to the CDR readable over gRPC, through the whole stack.

A `chargegrid dev` stack (embedded broker, every service, SQLite) on free ports; simulated
2.0.1 stations charge and stop; for each stop the clock runs until `GetCdr` answers. The
baseline in the same run is the first hop: until the session service shows the session
closed (`GetSession`), so the figure splits into session and billing shares.
Sizes: BENCH_CDR_STATIONS (default 10), BENCH_CDR_ROUNDS (default 3).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.billing.v1 import billing_pb2, billing_pb2_grpc
from chargegrid.api.session.v1 import session_pb2, session_pb2_grpc
from chargegrid.cli.dev import port_free
from chargegrid.cli.stack import BROKER_PORT, OCPP_PORT, installed_services
from chargegrid.platform.grpc import create_channel
from chargegrid.platform.settings import GRPC_PORTS
from chargegrid.simulator import EVSpec, StationConfig, StopReason, create_station
from chargegrid.simulator.station import Station

CHARGEGRID = Path(sys.executable).with_name("chargegrid")
POLL_S = 0.01


def _free_offset() -> int:
    for offset in range(2000, 9000, 37):
        specs = installed_services(port_offset=offset)
        ports = [BROKER_PORT + offset] + [
            p for s in specs for p in (s.grpc_port, s.metrics_port, s.http_port, s.ocpp_port) if p
        ]
        if all(port_free("127.0.0.1", p) for p in ports):
            return offset
    raise RuntimeError("no free port offset")


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def _until_found(ask: Callable[[], Awaitable[Any]], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await ask()
            return
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:
                raise
        await asyncio.sleep(POLL_S)


async def _one_session(
    station: Station, sessions: Any, billing: Any, closed: list[float], cdr: list[float]
) -> None:
    session = station.plug_in(1, ev=EVSpec(capacity_kwh=80, max_power_w=11_000), id_tag="BENCH")
    await asyncio.wait_for(session.transaction_started.wait(), 30)
    await asyncio.sleep(1.0)
    stopped = time.perf_counter()
    session.request_stop(StopReason.LOCAL)
    session_id = f"{station.station_id}:{session.transaction_id}"

    async def is_closed() -> None:
        found = await sessions.GetSession(session_pb2.GetSessionRequest(session_id=session_id))
        if found.status == session_pb2.SESSION_STATUS_ACTIVE:
            raise _NotYet()

    await _until_closed(is_closed)
    closed.append(time.perf_counter() - stopped)
    await _until_found(lambda: billing.GetCdr(billing_pb2.GetCdrRequest(session_id=session_id)))
    cdr.append(time.perf_counter() - stopped)
    await asyncio.wait_for(session.finished.wait(), 30)


class _NotYet(Exception):
    pass


async def _until_closed(ask: Callable[[], Awaitable[None]], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            await ask()
            return
        except _NotYet:
            pass
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
        await asyncio.sleep(POLL_S)
    raise TimeoutError("session never closed")


async def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while text not in (output := await asyncio.to_thread(log.read_text, errors="replace")):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"stack did not start:\n{output[-3000:]}")
        await asyncio.sleep(0.3)


def _start_stack(var_dir: Path, log: Path, offset: int) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [str(CHARGEGRID), "dev", "--var-dir", str(var_dir), "--port-offset", str(offset)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def run() -> dict[str, Any]:
    count = int(os.environ.get("BENCH_CDR_STATIONS", "10"))
    rounds = int(os.environ.get("BENCH_CDR_ROUNDS", "3"))
    offset = _free_offset()
    with tempfile.TemporaryDirectory() as tmp:
        var_dir, log = Path(tmp) / "var", Path(tmp) / "dev.log"
        process = await asyncio.to_thread(_start_stack, var_dir, log, offset)
        try:
            await _wait_for(log, "admin API token", process)
            return await _measure(var_dir, offset, count, rounds)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


async def _measure(var_dir: Path, offset: int, count: int, rounds: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "CHARGEGRID_VAR_DIR": str(var_dir),
        "CHARGEGRID_AUTHORIZATION_ADDRESS": f"127.0.0.1:{GRPC_PORTS['authorization'] + offset}",
        "CHARGEGRID_BILLING_ADDRESS": f"127.0.0.1:{GRPC_PORTS['billing'] + offset}",
    }
    for args in (
        ["tokens", "add", "BENCH"],
        ["tariffs", "add", "--id", "bench", "--energy", "0.30", "--currency", "EUR"],
        ["tariffs", "assign", "bench", "--default", "--from", "2020-01-01T00:00:00Z"],
    ):
        await asyncio.to_thread(
            subprocess.run, [str(CHARGEGRID), *args], env=env, check=True, capture_output=True
        )
    token = (await asyncio.to_thread((var_dir / "admin.token").read_text)).strip()
    url = f"ws://127.0.0.1:{OCPP_PORT + offset}/ocpp"
    stations = [
        create_station("2.0.1", StationConfig(station_id=f"CDR-{n:03d}", meter_interval_s=0.5), url)
        for n in range(count)
    ]
    sessions_channel = create_channel(f"127.0.0.1:{GRPC_PORTS['session'] + offset}", token=token)
    billing_channel = create_channel(f"127.0.0.1:{GRPC_PORTS['billing'] + offset}", token=token)
    sessions = session_pb2_grpc.SessionsStub(sessions_channel)
    billing = billing_pb2_grpc.BillingStub(billing_channel)
    closed: list[float] = []
    cdr: list[float] = []
    try:
        for station in stations:
            await station.start()
        for station in stations:
            await station.wait_registered(30)
        for _ in range(rounds):
            await asyncio.gather(
                *(_one_session(s, sessions, billing, closed, cdr) for s in stations)
            )
    finally:
        for station in stations:
            await station.stop()
        await sessions_channel.close()
        await billing_channel.close()
    return {
        "sessions": len(cdr),
        "stations_in_parallel": count,
        "stop_to_cdr_readable": _percentiles(cdr),
        "baseline_stop_to_session_closed": _percentiles(closed),
        "note": "one machine: embedded broker and every service on 2 cores, SQLite; polled "
        f"every {POLL_S * 1000:.0f} ms; t0 = the simulated station is told to stop",
    }
