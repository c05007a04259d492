"""Test-data builders for the simulator tests: fast stations and small helpers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chargegrid.simulator import EVSpec, Station, StationConfig

StationFactory = Callable[..., Station]
"""Builds a fast station against the CSMS double: `make_station("2.0.1", connectors=2)`."""

FAST = StationConfig(
    station_id="SIM-TEST",
    meter_interval_s=0.05,
    time_scale=600.0,
    reboot_delay_s=0.05,
    firmware_step_delay_s=0.02,
    reconnect_min_s=0.05,
    reconnect_max_s=0.2,
    boot_retry_fallback_s=0.05,
    response_timeout_s=5.0,
    offline_during_install_s=0.1,
    ev=EVSpec(capacity_kwh=60.0, initial_soc_percent=20.0, max_power_w=11_000.0),
)


def a_config(**overrides: Any) -> StationConfig:
    """A station that does everything in milliseconds (600x simulated energy)."""
    return replace(FAST, **overrides)


def energy_samples_16(meter_values: list[dict[str, Any]]) -> list[float]:
    """Energy register values in 1.6 MeterValues / transactionData, in order."""
    return [
        float(sample["value"])
        for value in meter_values
        for sample in value["sampledValue"]
        if sample.get("measurand") == "Energy.Active.Import.Register"
    ]


def samples_2x(event: dict[str, Any], measurand: str) -> list[float]:
    """Values of one measurand in a 2.x TransactionEvent or MeterValues payload."""
    return [
        float(sample["value"])
        for value in event.get("meterValue", [])
        for sample in value["sampledValue"]
        if sample.get("measurand") == measurand
    ]


@dataclass
class Upload:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class UploadSink:
    """A tiny HTTP server in a thread that keeps whatever is PUT or POSTed to it."""

    received: list[Upload] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/uploads/"

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _store(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.received.append(Upload(self.command, self.path, body, dict(self.headers)))
                self.send_response(201)
                self.end_headers()

            do_PUT = _store
            do_POST = _store

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class ManualClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
