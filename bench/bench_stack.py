"""Whole-stack throughput: the `make run` stack against a plain `ocpp` server, with targets.

A `chargegrid dev` stack (embedded broker, every service) on free ports with the
per-station rate limit lifted, placed by bench.stack_layout (BENCH_STACK_LAYOUT; default: the
gateway alone on core 0; the OCPP 1.6 load generator (bench.ocpp_load), the broker and the
other services on core 1), on SQLite or PostgreSQL (bench.stack_database,
BENCH_STACK_DATABASE). Sections, each on new station ids so none inherits another's
sessions, each started once its stations are booted, have sent one call and every consumer
group is idle (the steady state, not the stations' arrival):
- MeterValues in a closed loop; meanwhile a probe station measures the time from a
  MeterValues answered to the session's new energy readable over the session gRPC API
  (bench.stack_visibility);
- MeterValues at a fixed rate of half what the closed loop reached (reply times from the
  intended send time, so queueing is not hidden);
- Heartbeat and StatusNotification in closed loops;
- full sessions (bench.session_cycle: Authorize, StartTransaction, 10 MeterValues,
  StopTransaction, again) in a closed loop and at a fixed half of that rate, while a probe
  station times StopTransaction answered -> the session closed over gRPC;
- the plain-`ocpp` server (bench.gateway_targets) alone on the gateway's core under the
  closed loop, the generator where it was, before the stack starts and after it stopped
  (the ratio is taken against the mean of the two);
- a boot storm of BENCH_STACK_BOOT_STORM stations (bench.stack_boot_storm; 0 skips it).
Each section reports answers/s and reply p50/p99, the tail by send time (bench.stack_tail),
the lag of every consumer group on every
topic every second of the load and how long each took to catch up after it
(bench.stack_lag: committed offsets against the producers' own counts, never the broker's
end offsets), and CPU seconds per 1,000 calls of every process of the stack, from /proc,
from when the stations are booted through the catch-up, and how many decisions the gateway
took by its own fallback (bench.stack_fallbacks: a fast run on fallbacks is visible).
`targets` puts issue 14's targets beside the figures with met true/false (bench.stack_targets).
Sizes: BENCH_STACK_STATIONS (50), BENCH_STACK_SECONDS (10 per section),
BENCH_STACK_BOOT_STORM (default 0: off, so `make bench` stays within a few minutes; the
issue's storm is 19900, which took more than 100 s here before it was stopped),
BENCH_STACK_LAYOUT (gateway-alone, one-core), BENCH_STACK_DATABASE (sqlite, postgres),
BENCH_STACK_SECTIONS (some of SECTIONS, comma separated; e.g. `storm` alone).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.bench_stop_to_cdr import CHARGEGRID, _free_offset, _start_stack, _wait_for
from bench.stack_boot_storm import boot_storm
from bench.stack_database import database_from_env, service_databases
from bench.stack_fallbacks import fallbacks, taken_between
from bench.stack_lag import LagProbe
from bench.stack_layout import Layout, layout_from_env
from bench.stack_tail import CpuSampler, tail
from bench.stack_targets import targets
from bench.stack_visibility import probe, stop_probe
from chargegrid.cli.stack import BROKER_PORT, OCPP_PORT, installed_services
from chargegrid.platform.embedded_broker import free_port
from chargegrid.platform.settings import GRPC_PORTS

REPO = Path(__file__).resolve().parents[1]
LAYOUT: Layout = layout_from_env()
GENERATOR_CORE = ",".join(map(str, sorted(LAYOUT.generator_cpus)))
SERVER_CORE = ",".join(map(str, sorted(LAYOUT.gateway_cpus)))
CATCH_UP_TIMEOUT_S = 120.0
#: At most this long for the stack to be idle after a section's boots before its load.
SETTLE_TIMEOUT_S = 60.0
START_ATTEMPTS = 3
IDLE_S = 5.0
TICKS = os.sysconf("SC_CLK_TCK")
#: Processes whose CPU is not a consumer's: the gateway, the broker and its object store.
NOT_CONSUMERS = ("gateway", "broker", "objectstore")
#: The id tag of full-session loads and probes (bench.session_cycle, bench.stack_visibility).
SESSION_ID_TAG = "BENCH"
#: A visibility sample every this many seconds of the closed MeterValues loop.
PROBE_EVERY_S = 0.2


def _processes(parent: int) -> dict[str, int]:
    """Name -> pid of the stack's processes (children of `chargegrid dev`): services, their
    warm spares (`spare-<service>`), the broker and its object store (`weed`, durable)."""
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
            rest = words[words.index("-m") + 2 :]
            if module == "chargegrid.platform.spare" and rest:
                found["spare-" + rest[0].removeprefix("chargegrid.")] = int(entry.name)
            elif module.startswith("chargegrid.") and module != "chargegrid.cli":
                found[module.removeprefix("chargegrid.")] = int(entry.name)
        elif words and "tansu" in Path(words[0]).name:
            found["broker"] = int(entry.name)
        elif words and Path(words[0]).name == "weed":
            found["objectstore"] = int(entry.name)
    return found


def _pin_stack(dev_pid: int) -> dict[str, int]:
    """Place `chargegrid dev` (whose restarts inherit it) and every process it started."""
    pids = _processes(dev_pid)
    LAYOUT.place("dev", dev_pid)
    for name, pid in pids.items():
        LAYOUT.place(name, pid)
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
    url: str,
    stations: int,
    seconds: float,
    *,
    mode: str = "closed",
    action: str = "MeterValues",
    rate: float = 0.0,
    first: int = 0,
    on_connected: Callable[[dict[str, Any]], None] | None = None,
    sampler: CpuSampler | None = None,
    settle: Callable[[], Awaitable[float | None]] | None = None,
) -> tuple[dict[str, Any], float]:
    """Run the generator on its own core; (its result, monotonic time the load ended).

    With `settle`, every station sends one call first (a MeterValues opens its session) and
    the load starts once `settle()` returned: the stations' boots and first calls are done
    downstream, so the figures are the steady state's (a section's first seconds were its
    boots and new sessions being processed: 390 of 871 replies over 100 ms at half rate in
    one run, all in the first second)."""
    process = await asyncio.create_subprocess_exec(
        "taskset", "-c", GENERATOR_CORE, sys.executable, "-m", "bench.ocpp_load",
        mode, url, str(stations), str(seconds), str(rate), str(first),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
        env={
            **os.environ,
            "BENCH_LOAD_ACTION": action,
            "BENCH_LOAD_SEND_TIMES": "1",
            "BENCH_LOAD_PRIME": "1" if settle else "0",
            "BENCH_LOAD_WAIT_FOR_GO": "1",
        },
        limit=1 << 26,  # the result line carries every latency
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdin is not None
    lines = []
    settled: float | None = None
    async for line in process.stdout:
        if line.strip():
            lines.append(orjson.loads(line))
            if len(lines) == 1:
                if settle is not None:
                    settled = await settle()
                if on_connected is not None:
                    on_connected(lines[0])  # stations booted, load starting: measure from here
                process.stdin.write(b"go\n")
                await process.stdin.drain()
    ended = time.monotonic()
    await process.wait()
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"load generator failed ({process.returncode})")
    result = lines[-1]
    if settle is not None:
        result["stack_idle_after_boot_s"] = settled
        result["primed"] = lines[0].get("primed")
    in_order = result.pop("latencies", [])
    sent_at, began_at = result.pop("sent_at", []), result.pop("began_at", 0.0)
    latencies = sorted(in_order)
    if latencies:
        result["calls_per_s"] = round(result["calls"] / result["elapsed_s"])
        result["reply_p50_ms"] = round(latencies[len(latencies) // 2] * 1000, 1)
        result["reply_p99_ms"] = round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)
        result["tail"] = tail(in_order, sent_at, began_at, sampler)
    result["elapsed_s"] = round(result.get("elapsed_s", 0.0), 2)
    return result, ended


@dataclass
class Stack:
    dev_pid: int
    pids: dict[str, int]
    url: str
    lag: LagProbe
    session_address: str
    token: str
    var_dir: Path
    authorization_address: str

    def cpu(self) -> dict[str, float]:
        return {name: _cpu_s(pid) for name, pid in self.pids.items()}

    async def add_token(self, id_tag: str) -> None:
        """An accepted id token, through the operator's CLI (full sessions authorize)."""
        env = {
            **os.environ,
            "CHARGEGRID_VAR_DIR": str(self.var_dir),
            "CHARGEGRID_AUTHORIZATION_ADDRESS": self.authorization_address,
        }
        # One card for every station: the load's stations hold a session each at once.
        command = [str(CHARGEGRID), "tokens", "add", id_tag, "--max-concurrent", "1000"]
        await asyncio.to_thread(subprocess.run, command, env=env, check=True, capture_output=True)


async def _section(
    stack: Stack,
    action: str,
    stations: int,
    seconds: float,
    first: int,
    *,
    mode: str = "closed",
    rate: float = 0.0,
    visibility: str = "",
) -> dict[str, Any]:
    """One load on the stack: answers, lag of every group, CPU per 1,000 calls."""
    before: dict[str, float] = {}
    during: dict[str, list[int]] = {}
    sampler: list[asyncio.Task[None]] = []
    visible: list[asyncio.Task[dict[str, Any]]] = []
    cpu_samples = CpuSampler(stack.cpu)
    gateway_metrics = stack.lag.metrics["gateway"]
    fallbacks_before = await fallbacks(gateway_metrics)

    def started(_booted: dict[str, Any]) -> None:
        before.update(stack.cpu())
        sampler.append(asyncio.create_task(stack.lag.sample(during)))
        sampler.append(asyncio.create_task(cpu_samples.run()))
        if visibility:
            station = f"PROBE-{first:06d}"
            measure = stop_probe if visibility == "stop" else probe
            seen = measure(
                stack.url, stack.session_address, stack.token, station, seconds, PROBE_EVERY_S
            )
            visible.append(asyncio.create_task(seen))

    try:
        load, ended = await _generate(
            stack.url, stations, seconds, mode=mode, action=action, rate=rate, first=first,
            on_connected=started, sampler=cpu_samples,
            settle=lambda: stack.lag.idle(SETTLE_TIMEOUT_S),
        )  # fmt: skip
    finally:
        for task in sampler:
            task.cancel()
        await asyncio.gather(*sampler, return_exceptions=True)
    seen = await visible[0] if visible else None
    groups = await stack.lag.catch_up(ended, CATCH_UP_TIMEOUT_S)
    by_fallback = taken_between(fallbacks_before, await fallbacks(gateway_metrics))
    for key, series in during.items():
        groups.setdefault(key, {})["lag_each_second_during_load"] = series
    used = {name: s - before[name] for name, s in stack.cpu().items()}
    calls = max(int(load.get("calls", 0)), 1)
    per_1000 = {n: round(s / calls * 1000, 3) for n, s in sorted(used.items())}
    consumers = sum(v for n, v in per_1000.items() if n not in NOT_CONSUMERS)
    section: dict[str, Any] = {
        "action": action,
        "mode": mode,
        "load": load,
        "consumer_groups": groups,
        "cpu_s_per_1000_calls": per_1000,
        "consumers_cpu_vs_gateway": round(consumers / max(per_1000.get("gateway", 0), 1e-9), 2),
        "decisions_by_gateway_fallback": by_fallback,
    }
    if seen is not None and visibility == "stop":
        section["stop_answered_to_session_closed_over_grpc"] = seen
    elif seen is not None:
        section["meter_values_answered_to_energy_visible_over_grpc"] = seen
    return section


async def _with_stack(sections: Callable[[Stack], Any], database: str) -> dict[str, Any]:
    """Start the dev stack on `database`, place it, measure idle CPU, run `sections(stack)`,
    stop it."""
    async with service_databases(database) as database_env:
        os.environ.update(database_env)
        try:
            return await _on_databases(sections)
        finally:
            for name in database_env:
                os.environ.pop(name, None)


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


async def _started(tmp: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """A dev stack up on free ports: (process, port offset, var dir). Other benchmarks on
    the machine pick free ports the same way, so one may take a port between the check and
    the bind: the stack then fails to start and is tried again on other ports."""
    for attempt in range(START_ATTEMPTS):
        offset = _free_offset()
        var_dir, log = tmp / f"var{attempt}", tmp / f"dev{attempt}.log"
        process = await asyncio.to_thread(_start_stack, var_dir, log, offset)
        try:
            await _wait_for(log, "admin API token", process)
        except RuntimeError:
            _stop(process)
            if attempt == START_ATTEMPTS - 1:
                raise
            continue
        return process, offset, var_dir
    raise AssertionError("unreachable")


async def _on_databases(sections: Callable[[Stack], Any]) -> dict[str, Any]:
    os.environ["CHARGEGRID_GATEWAY_MAX_MESSAGES_PER_S"] = "100000"
    with tempfile.TemporaryDirectory() as tmp:
        process, offset, var_dir = await _started(Path(tmp))
        try:
            pids = await asyncio.to_thread(_pin_stack, process.pid)
            await asyncio.sleep(3.0)  # settle after start-up
            idle_from = {name: _cpu_s(pid) for name, pid in pids.items()}
            await asyncio.sleep(IDLE_S)
            idle_to = {name: _cpu_s(pid) for name, pid in pids.items()}
            idle = {n: round((idle_to[n] - idle_from[n]) / IDLE_S * 100, 1) for n in sorted(pids)}
            metrics = {
                s.name: f"http://127.0.0.1:{s.metrics_port}/metrics"
                for s in installed_services(port_offset=offset)
            }
            token = (var_dir / "admin.token").read_text().strip()
            async with LagProbe(f"127.0.0.1:{BROKER_PORT + offset}", metrics) as lag:
                stack = Stack(
                    process.pid,
                    pids,
                    f"ws://127.0.0.1:{OCPP_PORT + offset}/ocpp",
                    lag,
                    f"127.0.0.1:{GRPC_PORTS['session'] + offset}",
                    token,
                    var_dir,
                    f"127.0.0.1:{GRPC_PORTS['authorization'] + offset}",
                )
                result: dict[str, Any] = await sections(stack)
            result["idle_cpu_percent_before_load"] = idle
            result["peak_rss_mb"] = {name: _peak_rss_mb(pid) for name, pid in sorted(pids.items())}
            return result
        finally:
            _stop(process)
            _keep_logs(Path(tmp))


def _keep_logs(tmp: Path) -> None:
    """BENCH_STACK_KEEP_LOGS=DIR: the stack's logs copied there (the run's var dir is
    temporary), so that a failure seen in the figures can be looked up afterwards."""
    target = os.environ.get("BENCH_STACK_KEEP_LOGS")
    if not target:
        return
    destination = Path(target)
    destination.mkdir(parents=True, exist_ok=True)
    for log in [*tmp.glob("dev*.log"), *tmp.glob("var*/logs/*.log"), *tmp.glob("var*/*.log")]:
        shutil.copy2(log, destination / f"{log.parent.name}-{log.name}")


async def _nothing_downstream() -> float:
    """The plain server has no consumers: primed like the stack, nothing to wait for."""
    return 0.0


async def _plain_ocpp(stations: int, seconds: float) -> dict[str, Any]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        "taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.gateway_targets",
        "ocpp", str(port), cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await asyncio.sleep(2.0)  # imports, then listening
        load, _ = await _generate(
            f"ws://127.0.0.1:{port}", stations, seconds, settle=_nothing_downstream
        )
        return load
    finally:
        server.terminate()
        await server.wait()


#: "storm" runs only when BENCH_STACK_BOOT_STORM is above 0.
SECTIONS = ("meter_values", "heartbeat", "status_notification", "full_sessions", "storm")


def _chosen_sections() -> set[str]:
    """BENCH_STACK_SECTIONS, comma separated (default: all of SECTIONS)."""
    text = os.environ.get("BENCH_STACK_SECTIONS", "")
    chosen = {name.strip() for name in text.split(",") if name.strip()} or set(SECTIONS)
    unknown = chosen - set(SECTIONS)
    if unknown:
        raise SystemExit(f"BENCH_STACK_SECTIONS: unknown {sorted(unknown)}; known: {SECTIONS}")
    return chosen


async def run() -> dict[str, Any]:
    stations = int(os.environ.get("BENCH_STACK_STATIONS", "50"))
    seconds = float(os.environ.get("BENCH_STACK_SECONDS", "10"))
    storm_size = int(os.environ.get("BENCH_STACK_BOOT_STORM", "0"))
    database = database_from_env()
    os.sched_setaffinity(0, set(LAYOUT.generator_cpus))  # our probes stay off the gateway's core

    chosen = _chosen_sections()

    async def sections(stack: Stack) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if "meter_values" in chosen:
            closed = await _section(stack, "MeterValues", stations, seconds, 0, visibility="energy")
            half = max(closed["load"].get("calls_per_s", 0) / 2, 1.0)
            found["meter_values_closed_loop"] = closed
            found["meter_values_fixed_rate_half"] = await _section(
                stack, "MeterValues", stations, seconds, 10_000, mode="open", rate=half
            )
        if "heartbeat" in chosen:
            found["heartbeat_closed_loop"] = await _section(
                stack, "Heartbeat", stations, seconds, 20_000
            )
        if "status_notification" in chosen:
            found["status_notification_closed_loop"] = await _section(
                stack, "StatusNotification", stations, seconds, 30_000
            )
        if "full_sessions" in chosen:
            await stack.add_token(SESSION_ID_TAG)
            sessions = await _section(
                stack, "Session", stations, seconds, 40_000, visibility="stop"
            )
            sessions_half = max(sessions["load"].get("calls_per_s", 0) / 2, 1.0)
            found["full_sessions_closed_loop"] = sessions
            found["full_sessions_fixed_rate_half"] = await _section(
                stack, "Session", stations, seconds, 50_000, mode="open", rate=sessions_half,
                visibility="stop",
            )  # fmt: skip
        storm = None
        if storm_size > 0 and "storm" in chosen:
            storm_metrics = stack.lag.metrics["gateway"]
            fallbacks_before = await fallbacks(storm_metrics)
            storm = await boot_storm(
                stack.url,
                storm_size,
                GENERATOR_CORE,
                REPO,
                lambda: _processes(stack.dev_pid),
                _peak_rss_mb,
                _cpu_s,
            )
            after = await fallbacks(storm_metrics)
            storm["decisions_by_gateway_fallback"] = taken_between(fallbacks_before, after)
        return {**found, "boot_storm": storm}

    # The baseline before and after the stack: other people's work moves the machine's speed
    # within minutes, so one measurement minutes away from the stack's is not "the same run".
    plain_before = await _plain_ocpp(stations, seconds)
    stack = await _with_stack(sections, database)
    plain = await _plain_ocpp(stations, seconds)
    closed = stack.get("meter_values_closed_loop")
    stack_rate = closed["load"].get("calls_per_s", 0) if closed else 0
    rates = [p.get("calls_per_s", 0) for p in (plain_before, plain)]
    plain_rate = sum(rates) / 2 if all(rates) else 0
    return {
        "stations": stations,
        "seconds": seconds,
        "layout": LAYOUT.describe(),
        "database": database,
        "sections": sorted(chosen),
        "targets": targets(closed, plain_rate, stack["boot_storm"], database) if closed else None,
        "stack": stack,
        "plain_ocpp": plain,
        "plain_ocpp_before_the_stack": plain_before,
        "plain_ocpp_calls_per_s_mean": round(plain_rate),
        "stack_vs_plain_ocpp": round(stack_rate / plain_rate, 2) if plain_rate and closed else None,
        "note": f"2 cores, layout {LAYOUT.name} (see layout); {database}; "
        "other work on the machine makes these figures noisy",
    }
