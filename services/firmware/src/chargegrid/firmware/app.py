"""Composition root of the firmware service: everything is built inside `start`.

Start order: database (migrated), Kafka producer (for dead letters), the event consumer, the
HTTP server (uploads and downloads), the campaign runner (it also times out single-station
updates), then the gRPC server, so the service reports SERVING only once it can do its work.
`stop` reverses it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc
from chargegrid.firmware.api import SERVICE_NAME, FirmwareService
from chargegrid.firmware.campaigns import Campaigns
from chargegrid.firmware.charging import ChargingSessions, GrpcChargingSessions
from chargegrid.firmware.consumers import FirmwareEvents, firmware_consumer
from chargegrid.firmware.gateway import FirmwareCommands, GatewayCommands
from chargegrid.firmware.http import Uploads, create_http_app
from chargegrid.firmware.runner import CampaignRunner
from chargegrid.firmware.settings import FirmwareSettings
from chargegrid.firmware.stations import GrpcStationDirectory, StationDirectory
from chargegrid.firmware.updates import ApiDeps, Clock, utc_now
from chargegrid.platform.bus import BatchConsumer
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, TokenRegistry, create_channel
from chargegrid.platform.http_server import HttpServer
from chargegrid.platform.leader import elector_for
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def service_channel(
    settings: FirmwareSettings, address: str | None, timeout_s: float
) -> grpc.aio.Channel | None:
    """A channel to another service with this service's token; None when not configured."""
    if not address:
        return None
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return create_channel(address, token=token, default_timeout_s=timeout_s)


def gateway_channel(settings: FirmwareSettings) -> grpc.aio.Channel | None:
    return service_channel(settings, settings.gateway_address, settings.call_timeout_s)


class FirmwareApp:
    def __init__(
        self,
        settings: FirmwareSettings,
        *,
        clock: Clock = utc_now,
        commands: FirmwareCommands | None = None,
        stations: StationDirectory | None = None,
        charging: ChargingSessions | None = None,
        consumer_tuning: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._commands = commands
        self._stations = stations
        self._charging = charging
        self._tuning = consumer_tuning or {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.base_url = ""

    async def start(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings.database)
        await upgrade(self.engine, MIGRATIONS)
        self.sessions = session_factory(self.engine)
        self.channel = gateway_channel(settings)
        commands = self._commands or GatewayCommands(self.channel, settings.call_timeout_s)
        timeout_s = settings.lookup_timeout_s
        self.stations_channel = service_channel(settings, settings.stations_address, timeout_s)
        self.session_channel = service_channel(settings, settings.session_address, timeout_s)
        stations = self._stations or GrpcStationDirectory(self.stations_channel, timeout_s)
        charging = self._charging or GrpcChargingSessions(self.session_channel, timeout_s)
        self.producer = await connect_producer(settings)
        kafka = client_kwargs(settings)
        bootstrap = kafka.pop("bootstrap_servers")
        events = FirmwareEvents(self.sessions, self.clock, settings.critical_security_events)
        self.consumer: BatchConsumer = firmware_consumer(
            bootstrap, events, self.producer, settings.consumer_group, extra=kafka, **self._tuning
        )
        await self.consumer.start()
        self._spawn(self.consumer.run())
        self._spawn(run_pruner(self.sessions, settings.processed_events_retention))
        tokens = TokenRegistry(settings.api_tokens_file)
        uploads = Uploads(self.sessions, settings.var_dir / "firmware-uploads", self.clock)
        self.http = HttpServer(
            create_http_app(uploads, tokens), settings.http_host, settings.http_port
        )
        self.http_port = await self.http.start()
        self.base_url = settings.base_url(self.http_port)
        deps = ApiDeps(
            sessions=self.sessions,
            commands=commands,
            base_url=lambda: self.base_url,
            clock=self.clock,
            transfer_retries=settings.transfer_retries,
            transfer_retry_interval_s=settings.transfer_retry_interval_s,
            stations=stations,
            charging=charging,
            station_timeout_s=settings.station_timeout_s,
        )
        self.grpc = GrpcServer(settings.grpc_host, settings.grpc_port, tokens)
        self.campaigns = Campaigns(deps)
        self.runner = CampaignRunner(deps)
        # One campaign runner per cluster (a Kubernetes Lease); alone elsewhere.
        self._spawn(
            elector_for("firmware-campaigns").run(lambda: self.runner.run(settings.campaign_tick_s))
        )
        service = FirmwareService(deps, self.campaigns)
        self.grpc.add(pb_grpc.add_FirmwareServicer_to_server, service, SERVICE_NAME)
        self.grpc_port = await self.grpc.start()
        log.info(
            "firmware ready", grpc_port=self.grpc_port, http_port=self.http_port, url=self.base_url
        )

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await self.grpc.stop(5)
        await self.runner.stop()
        await self.http.stop()
        await self.consumer.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.producer.stop()
        for channel in (self.channel, self.stations_channel, self.session_channel):
            if channel is not None:
                await channel.close()
        await self.engine.dispose()


async def run(settings: FirmwareSettings) -> None:
    configure_logging("firmware", settings.log_level)
    setup_telemetry("firmware", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = FirmwareApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("firmware stopping")
    await app.stop()
