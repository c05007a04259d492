"""Every service serves Prometheus metrics at /metrics."""

import urllib.request

from prometheus_client import Counter

from chargegrid.platform.embedded_broker import free_port
from chargegrid.platform.telemetry import start_metrics_server

PROBE = Counter("chargegrid_test_probe_total", "A counter only this test increments")


def test_the_metrics_endpoint_serves_the_process_metrics() -> None:
    port = free_port()
    start_metrics_server(port, "127.0.0.1")
    PROBE.inc(3)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert "chargegrid_test_probe_total 3.0" in text
