"""Where bench_stack puts the stack's processes and its load generator on this 2-core machine.

Issue 14 measures "the gateway on its own core" against "a generator on its own core"; with
two cores the services and the broker have to share one of them. Layouts
(BENCH_STACK_LAYOUT):
- `gateway-alone` (default): the gateway (all its threads) alone on core 0; the load
  generator, the benchmark's probes, the broker and every other service on core 1. The
  plain-`ocpp` baseline runs alone on core 0 with the generator on core 1: the same place
  as the gateway. BENCH_STACK_SERVICES_NICENESS (default 0) lowers the priority of the
  broker and the services on core 1 so that their bursts do not delay the generator; on a
  machine other people load, niceness 10 starved them (the broker's acknowledgements, so
  the gateway, and the consumers, whose lag grew: 388 MeterValues/s against the plain
  server's 1,188 in one run), so it is off by default.
- `one-core`: the whole stack (gateway, services, broker) on core 0, the generator and
  probes on core 1 (the layout of the first bench_stack runs, kept to compare with them).
Affinity and niceness are set on every existing thread; threads started later inherit them
from the thread that starts them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GATEWAY_CORE, GENERATOR_CORE = 0, 1
SERVICES_NICENESS = int(os.environ.get("BENCH_STACK_SERVICES_NICENESS", "0"))


@dataclass(frozen=True)
class Layout:
    name: str
    gateway_cpus: frozenset[int]
    services_cpus: frozenset[int]
    generator_cpus: frozenset[int]
    services_niceness: int

    def place(self, name: str, pid: int) -> None:
        """Pin process `pid` (the stack's `name`: gateway, broker, session, ...)."""
        if name == "gateway":
            _place(pid, self.gateway_cpus, 0)
        else:
            _place(pid, self.services_cpus, self.services_niceness)

    def describe(self) -> dict[str, Any]:
        """For the benchmark's JSON: which core runs what."""
        return {
            "name": self.name,
            "gateway_cpus": sorted(self.gateway_cpus),
            "services_and_broker_cpus": sorted(self.services_cpus),
            "services_and_broker_niceness": self.services_niceness,
            "generator_cpus": sorted(self.generator_cpus),
            "plain_ocpp_cpus": sorted(self.gateway_cpus),
        }


LAYOUTS = {
    "gateway-alone": Layout(
        "gateway-alone",
        frozenset({GATEWAY_CORE}),
        frozenset({GENERATOR_CORE}),
        frozenset({GENERATOR_CORE}),
        SERVICES_NICENESS,
    ),
    "one-core": Layout(
        "one-core",
        frozenset({GATEWAY_CORE}),
        frozenset({GATEWAY_CORE}),
        frozenset({GENERATOR_CORE}),
        0,
    ),
}


def layout_from_env() -> Layout:
    name = os.environ.get("BENCH_STACK_LAYOUT", "gateway-alone")
    if name not in LAYOUTS:
        raise SystemExit(f"BENCH_STACK_LAYOUT={name!r}: expected one of {', '.join(LAYOUTS)}")
    return LAYOUTS[name]


def _place(pid: int, cpus: frozenset[int], niceness: int) -> None:
    try:
        tasks = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        return  # gone: a restarted service is found again by the next lookup
    for tid in tasks:
        try:
            os.sched_setaffinity(tid, cpus)
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
        except (ProcessLookupError, PermissionError):
            continue
