"""Composition root of the console: everything is built inside `start`.

Start order: gRPC channels to the services, the live mirror (its first reads run in the
background, so a service that is down makes only its part of the API answer 503), the HTTP
server (uvicorn in this event loop), and a gRPC server carrying only health checking (what
the Helm chart's probes ask). `stop` reverses it.
"""

from __future__ import annotations

import asyncio
import signal

from fastapi import FastAPI

from chargegrid.console.auth import Authenticator
from chargegrid.console.backends import Backends
from chargegrid.console.http import create_api
from chargegrid.console.hub import Hub
from chargegrid.console.live import LiveMirror
from chargegrid.console.settings import ConsoleSettings
from chargegrid.platform.grpc import GrpcServer, TokenRegistry
from chargegrid.platform.http_server import HttpServer
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)


def build_api(settings: ConsoleSettings, backends: Backends) -> tuple[FastAPI, LiveMirror]:
    """The application and its live mirror (not started) over `backends`."""
    token = settings.service_token.get_secret_value() if settings.service_token else None
    mirror = LiveMirror(
        backends,
        Hub(settings.sse_queue_size),
        token,
        resync_s=settings.live_resync_s,
        stations_resync_s=settings.stations_resync_s,
        energy_refresh_s=settings.energy_refresh_s,
        offline_alert_minutes=settings.offline_alert_minutes,
        overview_cache_s=settings.overview_cache_s,
    )
    auth = Authenticator(TokenRegistry(settings.api_tokens_file), settings.ticket_ttl_s)
    app = create_api(backends, auth, mirror, max_body_bytes=settings.max_body_bytes)
    app.state.sse_keepalive_s = settings.sse_keepalive_s
    return app, mirror


class ConsoleApp:
    def __init__(self, settings: ConsoleSettings, backends: Backends | None = None) -> None:
        self.settings = settings
        self._backends = backends

    async def start(self) -> None:
        settings = self.settings
        self.backends = self._backends or Backends.from_settings(settings)
        self.api, self.live = build_api(settings, self.backends)
        self.live.start()
        self.http = HttpServer(
            self.api,
            settings.http_host,
            settings.http_port,
            name="console HTTP",
            graceful_shutdown_s=3,  # event streams never end by themselves
        )
        self.http_port = await self.http.start()
        self.grpc = GrpcServer(
            settings.grpc_host, settings.grpc_port, TokenRegistry(settings.api_tokens_file)
        )
        self.grpc_port = await self.grpc.start()
        log.info("console ready", http_port=self.http_port, grpc_port=self.grpc_port)

    async def stop(self) -> None:
        await self.grpc.stop(2)
        await self.http.stop(10)
        await self.live.stop()
        await self.backends.close()


async def run(settings: ConsoleSettings) -> None:
    configure_logging("console", settings.log_level)
    setup_telemetry("console", settings.otlp_endpoint)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = ConsoleApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("console stopping")
    await app.stop()
