"""Gateway throughput, latency and connection density, against two baselines in one run.

Server processes are pinned to CPU 0, the load generator to CPU 1, so the generator is not
what gets measured; its own CPU use is reported. The embedded broker (every one of its
threads) runs beside the generator on CPU 1: the figures are those of one gateway process
with a core to itself, as the plain `ocpp` server and the echo have, and Kafka elsewhere, as
in production. Figures:
- sustained MeterValues CALL->CALLRESULT throughput (closed loop) of the gateway (schema
  validation + Kafka acks=all on every frame), of a plain `ocpp` ChargePoint server, of a
  bare websockets JSON echo (the ceiling), and of that echo storing the two records every
  answered CALL must cost in Kafka (the floor under any gateway on websockets and aiokafka:
  its ratio to the echo bounds the gateway's), with p50/p99;
- gateway p50/p99 at half of its maximum rate (open loop, latency from the intended send),
  beside the floor's at that same rate: the tail that the broker and generator add alone;
- idle booted stations held by one gateway process and RSS per connection.
The four servers run side by side (only one is loaded at a time) and are measured in
BENCH_GATEWAY_ROUNDS rounds (6) of BENCH_GATEWAY_SECONDS (4 s) each, the half-rate latency
in the first three rounds for BENCH_HALF_RATE_SECONDS (10 s); medians are reported with
every round's figure. Sizes: BENCH_GATEWAY_CONNECTIONS, BENCH_IDLE_STATIONS.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
from pathlib import Path
from typing import Any

import orjson

from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = {0}
GENERATOR_CPU = {1} if (os.cpu_count() or 1) > 1 else {0}
BROKER_CPU = GENERATOR_CPU
BROKER_NICENESS = 10
CONNECTIONS = int(os.environ.get("BENCH_GATEWAY_CONNECTIONS", "100"))
#: Length of each server's closed-loop slice in a round.
SECONDS = float(os.environ.get("BENCH_GATEWAY_SECONDS", "4"))
HALF_RATE_SECONDS = float(os.environ.get("BENCH_HALF_RATE_SECONDS", "10"))
# One socket per station: 19,900 leaves the gateway process room for its listener, Kafka and
# gRPC under this machine's 20,000-descriptor hard limit (not raisable without root's
# CAP_SYS_RESOURCE), so nearly the 20,000 target is held for real, not projected.
IDLE_STATIONS = int(os.environ.get("BENCH_IDLE_STATIONS", "19900"))
PER_GENERATOR = 5000
ROUNDS = int(os.environ.get("BENCH_GATEWAY_ROUNDS", "6"))
HALF_RATE_ROUNDS = min(ROUNDS, 3)
#: Servers measured in each round, in this order, and their keys in the report.
MODES = {
    "gateway": "meter_values_gateway",
    "ocpp": "baseline_plain_ocpp",
    "echo": "ceiling_websockets_echo",
    "echo_kafka": "floor_echo_plus_kafka",
}


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    return {
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


async def _spawn(args: list[str], cpus: set[int]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    os.sched_setaffinity(process.pid, cpus)
    return process


async def _start_target(mode: str, port: int, bootstrap: str) -> asyncio.subprocess.Process:
    process = await _spawn(["-m", "bench.gateway_targets", mode, str(port), bootstrap], SERVER_CPU)
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while b"READY" not in (line := await process.stdout.readline()):
            if not line:
                raise RuntimeError(f"{mode} target did not start")
    _DRAINS.add(asyncio.create_task(_drain(process.stdout)))
    return process


_DRAINS: set[asyncio.Task[None]] = set()


async def _drain(stream: asyncio.StreamReader) -> None:
    """Read and drop the target's log lines, so a full pipe never blocks it."""
    while await stream.read(65536):
        pass


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await process.wait()


async def _generate(*args: str, server_pid: int | None = None) -> dict[str, Any]:
    """Run the load generator; with `server_pid`, also the CPU seconds that server used from
    the moment every station was connected and booted (handshakes are not counted)."""
    process = await _spawn(["-m", "bench.ocpp_load", *args], GENERATOR_CPU)
    assert process.stdout is not None
    await process.stdout.readline()  # connected and booted
    cpu_before = _cpu_seconds(server_pid) if server_pid else 0.0
    out = await process.stdout.read()
    await process.wait()
    result: dict[str, Any] = orjson.loads(out.decode().strip().splitlines()[-1])
    if server_pid:
        result["server_cpu_s"] = _cpu_seconds(server_pid) - cpu_before
    return result


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    latencies = result.pop("latencies")
    return {
        "calls_per_s": round(result["calls"] / result["elapsed_s"]),
        **_percentiles(latencies),
        "errors": result["errors"],
        "generator_cpu_percent": result["generator_cpu_percent"],
        **({"late_sends": result["late_sends"]} if "late_sends" in result else {}),
    }


async def _closed_loop(target: asyncio.subprocess.Process, url: str) -> dict[str, Any]:
    """Maximum throughput of a running target: every station sends its next CALL as soon as
    the answer arrives."""
    raw = await _generate("closed", url, str(CONNECTIONS), str(SECONDS), server_pid=target.pid)
    measured = _summary(raw)
    # What one call costs the server, independent of how busy the machine was.
    measured["server_cpu_us_per_call"] = round(raw["server_cpu_s"] * 1e6 / max(1, raw["calls"]), 1)
    return measured


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _open_loop(url: str, rate: float) -> dict[str, Any]:
    """Latency of a running target at a fixed offered rate (from each intended send)."""
    result = _summary(
        await _generate("open", url, str(CONNECTIONS), str(HALF_RATE_SECONDS), str(rate), "100000")
    )
    result["target_rate_per_s"] = round(rate)
    return result


async def _idle_density(bootstrap: str) -> dict[str, Any]:
    port = free_port()
    target = await _start_target("gateway", port, bootstrap)
    try:
        await asyncio.sleep(1)
        before = _rss_kb(target.pid)
        url = f"ws://127.0.0.1:{port}/ocpp"
        hold = 15 + IDLE_STATIONS / 500
        generators = [
            _spawn(
                [
                    "-m",
                    "bench.ocpp_load",
                    "idle",
                    url,
                    str(min(PER_GENERATOR, IDLE_STATIONS - first)),
                    str(hold),
                    "0",
                    str(200000 + first),
                    f"127.0.0.{2 + n}",
                ],
                GENERATOR_CPU,
            )
            for n, first in enumerate(range(0, IDLE_STATIONS, PER_GENERATOR))
        ]
        processes = await asyncio.gather(*generators)
        connected = 0
        for process in processes:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), hold + 120)
            connected += int(orjson.loads(line)["connected"])
        await asyncio.sleep(2)
        after = _rss_kb(target.pid)
        for process in processes:
            process.kill()
            await process.wait()
    finally:
        await _stop(target)
    per_connection_kb = (after - before) / connected if connected else 0.0
    return {
        "stations": connected,
        "rss_before_mb": round(before / 1024, 1),
        "rss_after_mb": round(after / 1024, 1),
        "rss_per_station_kb": round(per_connection_kb, 1),
        "projected_rss_for_20000_mb": round((before + 20000 * per_connection_kb) / 1024, 1),
        "fd_limit_per_process": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
    }


def _place_broker(pid: int, cpus: set[int]) -> None:
    """Pin every broker thread (sched_setaffinity moves one thread, and its workers already
    exist) and lower their priority: on the core it shares with the load generator, a burst
    of broker work would otherwise delay the generator's sends and reads and be counted as
    the server's latency (seen: the floor's p99 at a fixed rate went from 3-12 ms to 12-63
    ms). The broker still gets what the generator leaves, about two thirds of the core."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)
        os.setpriority(os.PRIO_PROCESS, int(task.name), BROKER_NICENESS)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def _median_of_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds, and every round's calls/s (or p99) beside it."""
    merged: dict[str, Any] = {key: _median([r[key] for r in rounds]) for key in rounds[0]}
    merged["calls_per_s"] = round(merged["calls_per_s"])
    merged["per_round"] = {
        "calls_per_s": [r["calls_per_s"] for r in rounds],
        "p99_ms": [r["p99_ms"] for r in rounds],
    }
    return merged


def _ratios(by_mode: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The target ratios of one round, whose four servers ran back to back."""
    gateway, plain = by_mode["gateway"], by_mode["ocpp"]
    echo, floor = by_mode["echo"], by_mode["echo_kafka"]
    return {
        "gateway_vs_plain_ocpp": gateway["calls_per_s"] / max(1, plain["calls_per_s"]),
        "gateway_vs_echo": gateway["calls_per_s"] / max(1, echo["calls_per_s"]),
        # The best any gateway storing each CALL in Kafka could do against the echo here.
        "floor_vs_echo": floor["calls_per_s"] / max(1, echo["calls_per_s"]),
        "gateway_vs_floor": gateway["calls_per_s"] / max(1, floor["calls_per_s"]),
        "cpu_per_call_gateway_vs_plain_ocpp": plain["server_cpu_us_per_call"]
        / max(0.1, gateway["server_cpu_us_per_call"]),
    }


async def _start_all(bootstrap: str) -> dict[str, tuple[asyncio.subprocess.Process, str]]:
    """Every target, started and warmed up once; idle ones cost nothing while another runs."""
    targets = {}
    for mode in MODES:
        port = free_port()
        targets[mode] = (await _start_target(mode, port, bootstrap), f"ws://127.0.0.1:{port}/ocpp")
        await _generate("closed", targets[mode][1], "20", "2")  # warm-up
    return targets


async def _measure(bootstrap: str) -> tuple[list[dict[str, dict[str, Any]]], list[dict[str, Any]]]:
    """ROUNDS rounds of the four servers back to back on short slices, so that a machine
    whose speed drifts (shared hosts do, by tens of percent within a minute) moves every
    server of a round alike; in the first HALF_RATE_ROUNDS rounds, the gateway's latency at
    half the maximum it has just reached, and the floor's at that same rate (the tail that
    the broker and the generator add alone)."""
    targets = await _start_all(bootstrap)
    rounds: list[dict[str, dict[str, Any]]] = []
    halves: list[dict[str, Any]] = []
    try:
        for n in range(ROUNDS):
            rounds.append({mode: await _closed_loop(*targets[mode]) for mode in MODES})
            if n < HALF_RATE_ROUNDS:
                rate = rounds[-1]["gateway"]["calls_per_s"] / 2
                half = await _open_loop(targets["gateway"][1], rate)
                half["floor_at_the_same_rate"] = await _open_loop(targets["echo_kafka"][1], rate)
                halves.append(half)
    finally:
        for process, _ in targets.values():
            await _stop(process)
    return rounds, halves


async def run() -> dict[str, Any]:
    """Throughputs and half-rate latencies (ratios taken within a round, medians reported
    with every round's figure), then idle density on a fresh gateway process."""
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    assert broker.pid is not None
    _place_broker(broker.pid, BROKER_CPU)
    try:
        bootstrap = broker.bootstrap_servers
        rounds, halves = await _measure(bootstrap)
        idle = await _idle_density(bootstrap)
    finally:
        await broker.stop()
    ratios = [_ratios(r) for r in rounds]
    floors = [half.pop("floor_at_the_same_rate") for half in halves]
    return {
        "setup": {
            "connections": CONNECTIONS,
            "seconds_per_round": SECONDS,
            "rounds": ROUNDS,
            "half_rate_seconds": HALF_RATE_SECONDS,
            "half_rate_rounds": HALF_RATE_ROUNDS,
            "server_cpus": sorted(SERVER_CPU),
            "generator_cpus": sorted(GENERATOR_CPU),
            "broker_cpus": sorted(BROKER_CPU),
            "broker_niceness": BROKER_NICENESS,
        },
        **{key: _median_of_rounds([r[mode] for r in rounds]) for mode, key in MODES.items()},
        **{key: _median([r[key] for r in ratios]) for key in ratios[0]},
        "ratios_per_round": {key: [round(r[key], 2) for r in ratios] for key in ratios[0]},
        "gateway_at_half_max_rate": _median_of_rounds(halves),
        "floor_at_the_gateways_half_rate": _median_of_rounds(floors),
        "idle_connections": idle,
    }
