"""Run every benchmark module (or those named on the command line) and print JSON."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

#: Benchmarks whose module name does not start with bench_.
REGISTERED = ["analytics_cpu"]


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted([*(p.stem for p in here.glob("bench_*.py")), *REGISTERED])


async def run_one(name: str) -> dict[str, Any]:
    module = importlib.import_module(f"bench.{name}")
    started = time.perf_counter()
    result: dict[str, Any] = await module.run()
    result["wall_s"] = round(time.perf_counter() - started, 2)
    return result


async def main(names: list[str]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "benchmarks": {},
    }
    for name in names:
        print(f"running {name} ...", file=sys.stderr)
        report["benchmarks"][name.removeprefix("bench_")] = await run_one(name)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="bench module names (default: all)")
    args = parser.parse_args()
    names = [n.replace("-", "_") for n in args.names]
    chosen = [
        n if n.startswith("bench_") or n in REGISTERED else f"bench_{n}" for n in names
    ] or discover()
    print(json.dumps(asyncio.run(main(chosen)), indent=2))
