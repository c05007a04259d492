"""Prometheus metrics of the energy service (served on its /metrics port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REBALANCE_SECONDS = Histogram(
    "chargegrid_energy_rebalance_seconds",
    "One site's rebalance: read, allocate, send profiles, wait for their answers",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
PROFILES = Counter(
    "chargegrid_energy_profiles_total",
    "Charging profiles sent, by outcome (accepted, rejected, timeout, offline)",
    ["outcome"],
)
SITES = Gauge("chargegrid_energy_sites", "Sites this process controls (leads)")
