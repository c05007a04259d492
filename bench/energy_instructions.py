"""Instructions per allocation run, counted by valgrind's callgrind (no perf counters here).

Wall and CPU time on the shared 2-core machine move with whatever else runs; the instruction
count does not. One process runs `allocate` + `plan_transition` once, another 1 + RUNS times,
both under callgrind; the difference divided by RUNS is one run without the interpreter's
start-up and imports. Slow (minutes): bench_energy_allocation only does it when asked
(BENCH_ENERGY_INSTRUCTIONS=1).

`python -m bench.energy_instructions N RUNS` is the measured program itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 5


def _collected(n: int, runs: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.energy_instructions",
            str(n),
            str(runs),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def instructions_per_run(n: int) -> int | None:
    """Instructions of one allocate + plan_transition at `n` EVSEs (None without valgrind)."""
    if shutil.which("valgrind") is None:
        return None
    once = _collected(n, 1)
    more = _collected(n, 1 + RUNS)
    return (more - once) // RUNS


def _main(n: int, runs: int) -> None:
    from bench.bench_energy_allocation import T0, site
    from chargegrid.energy.allocation import SitePolicy, allocate, plan_transition

    topology, evses = site(n)
    for _ in range(runs):
        allocation = allocate(topology, evses, SitePolicy(), T0)
        plan_transition(topology, evses, allocation)


if __name__ == "__main__":
    _main(int(sys.argv[1]), int(sys.argv[2]))
