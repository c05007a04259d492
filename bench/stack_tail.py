"""Where a load's slow replies come from: when they were sent, and what the stack was doing.

A closed loop hides a stall of the server: each station has one call in flight, so a
300 ms pause delays one call per station (50 of ~20,000: below the p99) and the loop then
simply sends less. A fixed-rate load counts every call that should have been sent during
the pause as late (latency from the intended send time), so the same pause moves its p99.
To tell a stall from a slower steady state, the calls are grouped in windows of
`WINDOW_S` by (intended) send time: how many windows hold a reply slower than `SLOW_S`, the
share of the slow replies they hold, how many slow replies each second of the load had and
the p99 of the calls sent after the first SETTLE_S (a start-up burst against a steady tail),
and for the worst windows the CPU each process of the stack used then (sampled every
`CpuSampler.every_s` from /proc), as a share of one core.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

WINDOW_S = 0.1
SLOW_S = 0.1
WORST = 5
#: The first seconds of a section are its stations' first calls (new sessions downstream):
#: p99 is also given for the calls sent after them.
SETTLE_S = 2.0


class CpuSampler:
    """CPU seconds of every process of the stack, every `every_s`, on the monotonic clock."""

    def __init__(self, cpu: Callable[[], dict[str, float]], every_s: float = 0.05) -> None:
        self.cpu = cpu
        self.every_s = every_s
        self.samples: list[tuple[float, dict[str, float]]] = []

    async def run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), self.cpu()))
            await asyncio.sleep(self.every_s)

    def busy(self, start: float, end: float) -> dict[str, float]:
        """Each process's share of a core between `start` and `end` (nearest samples)."""
        inside = [
            (t, c) for t, c in self.samples if start - self.every_s <= t <= end + self.every_s
        ]
        if len(inside) < 2:
            return {}
        (t0, c0), (t1, c1) = inside[0], inside[-1]
        span = max(t1 - t0, 1e-9)
        return {name: round((c1.get(name, 0.0) - c0[name]) / span, 2) for name in sorted(c0)}


def tail(
    latencies: list[float], sent_at: list[float], began_at: float, sampler: CpuSampler | None
) -> dict[str, Any]:
    """p99.9 and max, the windows the slow replies fall in, and the stack's CPU in the worst."""
    if not latencies:
        return {}
    ordered = sorted(latencies)
    windows: dict[int, list[float]] = {}
    for latency, sent in zip(latencies, sent_at, strict=True):
        windows.setdefault(int(sent / WINDOW_S + 1e-9), []).append(latency)  # 0.6/0.1 < 6
    slow = [w for w, values in windows.items() if max(values) > SLOW_S]
    slow_calls = sum(1 for value in latencies if value > SLOW_S)
    worst = sorted(windows, key=lambda w: max(windows[w]), reverse=True)[:WORST]
    by_second: dict[int, int] = {}
    for latency, sent in zip(latencies, sent_at, strict=True):
        if latency > SLOW_S:
            by_second[int(sent)] = by_second.get(int(sent), 0) + 1
    settled = sorted(v for v, sent in zip(latencies, sent_at, strict=True) if sent >= SETTLE_S)
    found: dict[str, Any] = {
        "reply_p999_ms": round(ordered[max(0, int(len(ordered) * 0.999) - 1)] * 1000, 1),
        "replies_over_100_ms_by_second": [by_second.get(i, 0) for i in range(int(max(sent_at)) + 1)]
        if sent_at
        else [],
        f"reply_p99_ms_sent_after_{SETTLE_S:.0f}_s": (
            round(settled[max(0, int(len(settled) * 0.99) - 1)] * 1000, 1) if settled else None
        ),
        "reply_max_ms": round(ordered[-1] * 1000, 1),
        "windows_s": WINDOW_S,
        "windows": len(windows),
        "windows_with_a_reply_over_100_ms": len(slow),
        "replies_over_100_ms": slow_calls,
        "worst_windows": [],
    }
    for w in sorted(worst):
        start = began_at + w * WINDOW_S
        entry: dict[str, Any] = {
            "sent_from_s": round(w * WINDOW_S, 1),
            "calls": len(windows[w]),
            "max_ms": round(max(windows[w]) * 1000, 1),
        }
        if sampler is not None:
            entry["cpu_share_while_waiting"] = sampler.busy(start, start + max(windows[w]))
        found["worst_windows"].append(entry)
    return found
