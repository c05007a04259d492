"""Start-up time of the `chargegrid` command, as an operator's script of many calls sees it.

Wall time of whole processes, medians of BENCH_CLI_RUNS runs (default 10) each: `chargegrid
--help`, `chargegrid --version`, and `chargegrid stations list` against a stations service
(`chargegrid dev --service stations`, with its broker, on free ports). Targets of issue 22
beside them (help 0.3 s, a simple list 0.6 s). Baselines from the same run: `python -c pass`
(the interpreter alone) and `python -c "import typer"` (the command-line library alone).

Two conditions. `with_bytecode_cache`: Python writes `.pyc` files on the first run (here
into a temporary PYTHONPYCACHEPREFIX, after one warm-up run) and reads them afterwards; the
targets apply to it. `without_bytecode_cache`: PYTHONDONTWRITEBYTECODE=1, as this build
machine sets it; only what exists is read (`make install` compiles the installed libraries),
the workspace's own modules are compiled on every call.
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
from pathlib import Path
from typing import Any

from chargegrid.cli.dev import port_free
from chargegrid.cli.stack import BROKER_PORT, installed_services

CHARGEGRID = Path(sys.executable).with_name("chargegrid")
TARGETS_S = {"help": 0.3, "version": 0.3, "stations_list": 0.6}


def _free_offset() -> int:
    for offset in range(3000, 9000, 41):
        specs = installed_services(["stations"], port_offset=offset)
        ports = [BROKER_PORT + offset] + [
            p for s in specs for p in (s.grpc_port, s.metrics_port, s.http_port) if p
        ]
        if all(port_free("127.0.0.1", p) for p in ports):
            return offset
    raise RuntimeError("no free port offset")


def _timed(argv: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Median, min and max wall time of `runs` runs of argv (each must succeed), after one
    warm-up run that fills the bytecode cache, if the environment has one."""
    subprocess.run(argv, check=True, capture_output=True, env=env, timeout=60)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env, timeout=60)
        times.append(time.perf_counter() - started)
    return {
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "runs": runs,
    }


def _against_target(name: str, measured: dict[str, Any]) -> dict[str, Any]:
    target = TARGETS_S[name]
    return {**measured, "target_s": target, "meets_target": measured["median_s"] < target}


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)


async def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while text not in (output := await asyncio.to_thread(log.read_text, errors="replace")):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"stations service did not start:\n{output[-3000:]}")
        await asyncio.sleep(0.3)


def _environments(cache_dir: Path) -> dict[str, dict[str, str]]:
    plain = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        "with_bytecode_cache": {**plain, "PYTHONPYCACHEPREFIX": str(cache_dir)},
        "without_bytecode_cache": {**plain, "PYTHONDONTWRITEBYTECODE": "1"},
    }


def _commands(runs: int, env: dict[str, str], list_argv: list[str]) -> dict[str, Any]:
    python = sys.executable
    return {
        "baseline_python_startup": _timed([python, "-c", "pass"], runs, env),
        "baseline_import_typer": _timed([python, "-c", "import typer"], runs, env),
        "help": _against_target("help", _timed([str(CHARGEGRID), "--help"], runs, env)),
        "version": _against_target("version", _timed([str(CHARGEGRID), "--version"], runs, env)),
        "stations_list": _against_target("stations_list", _timed(list_argv, runs, env)),
    }


async def run() -> dict[str, Any]:
    runs = int(os.environ.get("BENCH_CLI_RUNS", "10"))
    offset = _free_offset()
    with tempfile.TemporaryDirectory() as tmp:
        var_dir, log = Path(tmp) / "var", Path(tmp) / "dev.log"
        argv = [str(CHARGEGRID), "dev", "--service", "stations", "--var-dir", str(var_dir)]
        stack = await asyncio.to_thread(_start, [*argv, "--port-offset", str(offset)], log)
        try:
            await _wait_for(log, "admin API token", stack)
            address = f"127.0.0.1:{installed_services(['stations'], offset)[0].grpc_port}"
            argv = [str(CHARGEGRID), "stations", "list", "--address", address]
            result: dict[str, Any] = {}
            for name, env in _environments(Path(tmp) / "pycache").items():
                env["CHARGEGRID_VAR_DIR"] = str(var_dir)
                result[name] = await asyncio.to_thread(_commands, runs, env, argv)
        finally:
            os.killpg(stack.pid, signal.SIGTERM)
            try:
                stack.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
    return result
