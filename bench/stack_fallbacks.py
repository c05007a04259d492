"""How many decisions the gateway took itself (timeout or service unavailable) in a section.

The gateway counts each in `chargegrid_gateway_decision_fallbacks_total{decision, outcome}`
(services/gateway decisions.py). A run whose replies are fast because the gateway fell back
(a local transaction id, a cached or default authorization, a Pending boot) has not measured
the services behind it: the count is printed beside every section's figures.
"""

from __future__ import annotations

import asyncio
import urllib.request

METRIC = "chargegrid_gateway_decision_fallbacks_total"


def _read(metrics_url: str) -> dict[str, float]:
    with urllib.request.urlopen(metrics_url, timeout=5) as reply:
        return counts_of(reply.read().decode())


def counts_of(text: str) -> dict[str, float]:
    """decision -> fallbacks so far (every outcome summed), from a Prometheus exposition."""
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith(METRIC + "{"):
            continue
        labels, value = line[len(METRIC) + 1 :].rsplit("} ", 1)
        fields = dict(part.split("=", 1) for part in labels.split(","))
        decision = fields.get("decision", '""').strip('"')
        counts[decision] = counts.get(decision, 0.0) + float(value)
    return counts


async def fallbacks(metrics_url: str) -> dict[str, float]:
    return await asyncio.to_thread(_read, metrics_url)


def taken_between(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """Fallbacks per decision between two readings, with their total."""
    taken = {d: int(after[d] - before.get(d, 0.0)) for d in sorted(after)}
    taken = {d: n for d, n in taken.items() if n}
    return {**taken, "total": sum(taken.values())}
