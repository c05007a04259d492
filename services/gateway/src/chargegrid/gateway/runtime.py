"""Process-level tuning of a gateway process, shared by `python -m chargegrid.gateway` and the
benchmark so that what is measured is what runs.

The event loop is uvloop's (libuv) where it is installed (every platform but Windows): the
gateway is an I/O multiplexer first, and uvloop's transports, timers and callbacks took
~6% off the CPU time of a MeterValues round trip. asyncio's own loop runs otherwise.

The gateway holds a large, never-freed heap after start-up (compiled schema validators, the
`ocpp` package, protobuf descriptors, gRPC, OpenTelemetry). Python's cyclic garbage collector
walks all of it on every full collection: measured under MeterValues load, that was one
collection of 40-70 ms every half second, ~8% of the CPU and most of the p99. Freezing the
start-up heap moves it out of the collector's reach; objects created afterwards (connections,
in-flight frames) are still collected as usual.

Each frame allocates a few dozen short-lived container objects, nearly all freed at once by
reference counting; with the default young-generation threshold (700) the collector still ran
~250 times a second. A threshold of 10,000 keeps at most that many objects waiting for a
collection (a few MB at worst) and took the collector's share of the CPU from ~3% to <0.5%.

Every station holds one socket. Many hosts start processes with a soft limit of 1,024 open
files (the hard limit is often far higher): left there, a gateway would refuse its 1,021st
station. The soft limit is raised to the hard one at start-up.
"""

from __future__ import annotations

import asyncio
import gc
import resource
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: Allocations (net of frees) of container objects between two young-generation collections.
YOUNG_GENERATION_THRESHOLD = 10_000


def freeze_startup_heap() -> int:
    """Collect once, exclude every surviving object from later collections, and collect the
    young generation less often.

    Call when the process is initialised and before it takes load. Returns how many objects
    were frozen.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
    return gc.get_freeze_count()


def raise_open_file_limit() -> tuple[int, int]:
    """Raise this process's soft limit of open files to its hard limit; returns both.

    Only the hard limit needs privileges to raise, so this always succeeds where the hard
    limit is finite; an infinite one is left as the system set it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft, hard


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop when it is available."""
    try:
        import uvloop
    except ImportError:  # Windows: no uvloop
        return asyncio.run(main)
    return uvloop.run(main)
