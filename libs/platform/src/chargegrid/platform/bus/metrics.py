"""Prometheus metrics of the event bus, defined once per process (labels tell topics apart)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PUBLISHED = Counter("chargegrid_bus_published_total", "Events acknowledged by Kafka", ["topic"])
PUBLISH_FAILED = Counter(
    "chargegrid_bus_publish_failed_total", "Publishes Kafka did not acknowledge", ["topic"]
)
PUBLISH_SECONDS = Histogram(
    "chargegrid_bus_publish_seconds",
    "Time from publish to Kafka acknowledgement",
    ["topic"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMED = Counter(
    "chargegrid_bus_consumed_total", "Events handled successfully", ["topic", "group"]
)
HANDLER_FAILURES = Counter(
    "chargegrid_bus_handler_failures_total", "Handler attempts that raised", ["topic", "group"]
)
DEAD_LETTERED = Counter(
    "chargegrid_bus_dead_lettered_total", "Events sent to the dead-letter topic", ["topic", "group"]
)
DUPLICATES_SKIPPED = Counter(
    "chargegrid_bus_duplicates_skipped_total", "Re-delivered events skipped", ["consumer"]
)
HANDLER_SECONDS = Histogram(
    "chargegrid_bus_handler_seconds", "Handler duration per event", ["topic", "group"]
)
