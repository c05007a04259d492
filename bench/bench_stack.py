"""Whole-stack MeterValues throughput: the `make run` stack against a plain `ocpp` server.

A `chargegrid dev` stack (embedded broker, every service, SQLite) on free ports, pinned to
core 0 with the per-station rate limit lifted; the OCPP 1.6 load generator (bench.ocpp_load)
in its own process on core 1 drives stations in a closed loop of MeterValues. Then the
plain-`ocpp` server (bench.gateway_targets) on core 0 takes the same load. Reported: answers
per second and reply p50/p99 of both; for every consumer group of `transaction.events.v1`
how far its committed offsets were behind the records produced, every second of the load
(produced = the gateway's own count of acknowledged records) and when it ended (produced =
the generator's answered calls), and how long it took to catch up (never from the broker's
end offsets, which the embedded broker gets wrong); CPU seconds per 1,000
MeterValues of every process of the stack, from /proc, from when every station is booted
through the load and the catch-up, and
each process's CPU while the booted stack sat idle for 5 s before the load.
Sizes: BENCH_STACK_STATIONS (default 50), BENCH_STACK_SECONDS (default 10).
Not yet measured here: fixed-rate runs, Heartbeat/StatusNotification/full-session mixes,
event -> state visible through gRPC, the boot storm, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.bench_stop_to_cdr import _free_offset, _start_stack, _wait_for
from chargegrid.cli.stack import BROKER_PORT, OCPP_PORT, installed_services
from chargegrid.platform.bus.topics import TRANSACTION_EVENTS
from chargegrid.platform.embedded_broker import free_port

REPO = Path(__file__).resolve().parents[1]
STACK_CORE, GENERATOR_CORE = "0", "1"
CATCH_UP_TIMEOUT_S = 300.0
IDLE_S = 5.0
TICKS = os.sysconf("SC_CLK_TCK")


def _processes(parent: int) -> dict[str, int]:
    """Name -> pid of the stack's processes (children of `chargegrid dev`): services, broker."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) != parent:
            continue
        words = [w.decode(errors="replace") for w in cmdline if w]
        if "-m" in words and words.index("-m") + 1 < len(words):
            module = words[words.index("-m") + 1]
            if module.startswith("chargegrid.") and module != "chargegrid.cli":
                found[module.removeprefix("chargegrid.")] = int(entry.name)
        elif words and "tansu" in Path(words[0]).name:
            found["broker"] = int(entry.name)
    return found


def _pin_stack(dev_pid: int) -> dict[str, int]:
    """Pin `chargegrid dev` and every process it started (all threads) to the stack's core."""
    pids = _processes(dev_pid)
    for pid in [dev_pid, *pids.values()]:
        command = ["taskset", "-a", "-p", "-c", STACK_CORE, str(pid)]
        subprocess.run(command, check=True, capture_output=True)
    return pids


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


async def _generate(
    url: str, stations: int, seconds: float, on_connected: Callable[[], None] | None = None
) -> tuple[dict[str, Any], float]:
    """Run the generator on its own core; (its result, monotonic time the load ended)."""
    process = await asyncio.create_subprocess_exec(
        "taskset", "-c", GENERATOR_CORE, sys.executable, "-m", "bench.ocpp_load",
        "closed", url, str(stations), str(seconds),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
        limit=1 << 26,  # the result line carries every latency
    )  # fmt: skip
    assert process.stdout is not None
    lines = []
    async for line in process.stdout:
        if line.strip():
            lines.append(orjson.loads(line))
            if len(lines) == 1 and on_connected is not None:
                on_connected()  # stations booted, load starting: measure from here
    ended = time.monotonic()
    await process.wait()
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"load generator failed ({process.returncode})")
    result = lines[-1]
    latencies = sorted(result.pop("latencies", []))
    if latencies:
        result["calls_per_s"] = round(result["calls"] / result["elapsed_s"])
        result["reply_p50_ms"] = round(latencies[len(latencies) // 2] * 1000, 1)
        result["reply_p99_ms"] = round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)
    result["elapsed_s"] = round(result.get("elapsed_s", 0.0), 2)
    return result, ended


#: The consumer groups of transaction.events.v1 in the stack (the embedded broker cannot
#: list groups to aiokafka's admin client).
GROUPS = ("session", "authorization")


async def _committed(bootstrap: str, topic: str) -> dict[str, int]:
    """Consumer group -> sum of its committed offsets on `topic`."""
    totals: dict[str, int] = {}
    for group in GROUPS:
        probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
        await probe.start()
        try:
            partitions = await probe._client.fetch_all_metadata()
            found = partitions.partitions_for_topic(topic) or set()
            offsets = [await probe.committed(TopicPartition(topic, p)) for p in sorted(found)]
            totals[group] = sum(o for o in offsets if o is not None and o >= 0)
        finally:
            await probe.stop()
    return totals


async def _catch_up(bootstrap: str, produced: int, ended: float) -> dict[str, Any]:
    at_end = await _committed(bootstrap, TRANSACTION_EVENTS)
    caught: dict[str, float] = {}
    while time.monotonic() - ended < CATCH_UP_TIMEOUT_S and len(caught) < len(GROUPS):
        for group, total in (await _committed(bootstrap, TRANSACTION_EVENTS)).items():
            if total >= produced and group not in caught:
                caught[group] = round(time.monotonic() - ended, 2)
        await asyncio.sleep(0.25)
    return {
        group: {
            "lag_at_load_end": max(0, produced - at_end.get(group, 0)),
            "caught_up_after_s": caught.get(group),
        }
        for group in GROUPS
    }


def _published(metrics_url: str, topic: str) -> int:
    """Records the gateway has had acknowledged on `topic` (its own Prometheus counter)."""
    with urllib.request.urlopen(metrics_url, timeout=5) as reply:
        text = reply.read().decode()
    wanted = f'chargegrid_bus_published_total{{topic="{topic}"}}'
    for line in text.splitlines():
        if line.startswith(wanted):
            return int(float(line.split()[-1]))
    return 0


async def _sample_lag(metrics_url: str, bootstrap: str, into: dict[str, list[int]]) -> None:
    """Every second: per group, records produced (the gateway's count) minus committed."""
    while True:
        produced = await asyncio.to_thread(_published, metrics_url, TRANSACTION_EVENTS)
        for group, committed in (await _committed(bootstrap, TRANSACTION_EVENTS)).items():
            into.setdefault(group, []).append(max(0, produced - committed))
        await asyncio.sleep(1.0)


async def _stack(stations: int, seconds: float) -> dict[str, Any]:
    offset = _free_offset()
    os.environ["CHARGEGRID_GATEWAY_MAX_MESSAGES_PER_S"] = "100000"
    with tempfile.TemporaryDirectory() as tmp:
        var_dir, log = Path(tmp) / "var", Path(tmp) / "dev.log"
        process = await asyncio.to_thread(_start_stack, var_dir, log, offset)
        try:
            await _wait_for(log, "admin API token", process)
            pids = await asyncio.to_thread(_pin_stack, process.pid)
            await asyncio.sleep(3.0)  # settle after start-up
            idle_from = {name: _cpu_s(pid) for name, pid in pids.items()}
            await asyncio.sleep(IDLE_S)
            idle_to = {name: _cpu_s(pid) for name, pid in pids.items()}
            idle = {n: round((idle_to[n] - idle_from[n]) / IDLE_S * 100, 1) for n in sorted(pids)}
            before: dict[str, float] = {}

            def mark() -> None:
                before.update({name: _cpu_s(pid) for name, pid in pids.items()})

            url = f"ws://127.0.0.1:{OCPP_PORT + offset}/ocpp"
            gateway = next(s for s in installed_services(port_offset=offset) if s.name == "gateway")
            bootstrap = f"127.0.0.1:{BROKER_PORT + offset}"
            during: dict[str, list[int]] = {}
            sampler = asyncio.create_task(
                _sample_lag(f"http://127.0.0.1:{gateway.metrics_port}/metrics", bootstrap, during)
            )
            try:
                load, ended = await _generate(url, stations, seconds, mark)
            finally:
                sampler.cancel()
                await asyncio.gather(sampler, return_exceptions=True)
            produced = int(load.get("calls", 0))
            lag = await _catch_up(bootstrap, produced, ended)
            for group, series in during.items():
                lag.setdefault(group, {})["lag_each_second_during_load"] = series
            used = {name: _cpu_s(pid) - before[name] for name, pid in pids.items()}
            peak = {name: _peak_rss_mb(pid) for name, pid in pids.items()}
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    per_1000 = {n: round(s / max(produced, 1) * 1000, 3) for n, s in sorted(used.items())}
    consumers = sum(v for n, v in per_1000.items() if n not in ("gateway", "broker"))
    return {
        "load": load,
        "consumer_groups": lag,
        "cpu_s_per_1000_meter_values": per_1000,
        "consumers_cpu_vs_gateway": round(consumers / max(per_1000.get("gateway", 0), 1e-9), 2),
        "idle_cpu_percent_before_load": idle,
        "peak_rss_mb": peak,
    }


async def _plain_ocpp(stations: int, seconds: float) -> dict[str, Any]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        "taskset", "-c", STACK_CORE, sys.executable, "-m", "bench.gateway_targets",
        "ocpp", str(port), cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await asyncio.sleep(2.0)  # imports, then listening
        load, _ = await _generate(f"ws://127.0.0.1:{port}", stations, seconds)
        return load
    finally:
        server.terminate()
        await server.wait()


async def run() -> dict[str, Any]:
    stations = int(os.environ.get("BENCH_STACK_STATIONS", "50"))
    seconds = float(os.environ.get("BENCH_STACK_SECONDS", "10"))
    stack = await _stack(stations, seconds)
    plain = await _plain_ocpp(stations, seconds)
    stack_rate, plain_rate = stack["load"].get("calls_per_s", 0), plain.get("calls_per_s", 0)
    return {
        "stations": stations,
        "seconds": seconds,
        "stack": stack,
        "plain_ocpp": plain,
        "stack_vs_plain_ocpp": round(stack_rate / plain_rate, 2) if plain_rate else None,
        "note": "2 cores: the stack on core 0, the generator on core 1; SQLite; other work "
        "on the machine makes these figures noisy",
    }
