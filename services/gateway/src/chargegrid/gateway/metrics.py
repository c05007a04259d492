"""Gateway metrics, defined once per process; children cached for the hot path."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("chargegrid_gateway_connections", "Open station connections", ["version"])
CONNECTS = Counter("chargegrid_gateway_connects_total", "Accepted station connections", ["version"])
HANDSHAKE_REFUSED = Counter(
    "chargegrid_gateway_handshakes_refused_total", "Refused WebSocket handshakes", ["reason"]
)
HANDSHAKE_UNCHECKED = Counter(
    "chargegrid_gateway_handshakes_unchecked_total",
    "Handshakes let through by REQUIRE_BASIC_AUTH alone: the stations service never answered "
    "what the station must present",
)
CALLS = Histogram(
    "chargegrid_gateway_call_seconds",
    "Station CALL to CALLRESULT, Kafka acknowledgement included",
    ["version", "action"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CALL_ERRORS = Counter(
    "chargegrid_gateway_call_errors_total", "CALLERRORs sent to stations", ["version", "code"]
)
TRANSACTION_SEQ_GAPS = Counter(
    "chargegrid_gateway_transaction_seq_gaps_total",
    "2.x TransactionEvents whose seqNo skipped numbers on their connection",
)
THROTTLED = Counter(
    "chargegrid_gateway_throttled_total", "Messages delayed by the rate limit", ["version"]
)
GARBAGE_DISCONNECTS = Counter(
    "chargegrid_gateway_garbage_disconnects_total",
    "Stations disconnected for repeated bad frames",
    ["version"],
)

_call_children: dict[tuple[str, str], Any] = {}


def observe_call(version: str, action: str, seconds: float) -> None:
    child = _call_children.get((version, action))
    if child is None:
        child = _call_children[(version, action)] = CALLS.labels(version, action)
    child.observe(seconds)
