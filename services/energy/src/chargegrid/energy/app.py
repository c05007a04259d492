"""Composition root of the energy service: everything is built inside `start`.

Start order: database (migrated), Kafka producer (energy.events.v1 and dead letters), the
site supervisor (controllers, each under its leader election), the event consumer, then the
gRPC server, so the service reports SERVING only once it can do its work. `stop` reverses it.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.energy.v1 import energy_pb2_grpc as pb_grpc
from chargegrid.energy.api import SERVICE_NAME, ApiDeps, EnergyService
from chargegrid.energy.consumers import energy_consumer
from chargegrid.energy.controller import ControllerDeps
from chargegrid.energy.directory import Directory, GrpcDirectory, GrpcTokenGroups, TokenGroups
from chargegrid.energy.gateway import GatewayStationControl, StationControl
from chargegrid.energy.handlers import EnergyEvents
from chargegrid.energy.leadership import ElectorFactory, default_elector
from chargegrid.energy.publisher import KafkaPublisher
from chargegrid.energy.settings import EnergySettings
from chargegrid.energy.supervisor import Supervisor
from chargegrid.platform.bus import BatchConsumer
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, TokenRegistry, create_channel
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def service_channel(
    settings: EnergySettings, address: str | None, timeout_s: float
) -> grpc.aio.Channel | None:
    """A channel to another service with this service's token; None when not configured."""
    if not address:
        return None
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return create_channel(address, token=token, default_timeout_s=timeout_s)


class EnergyApp:
    def __init__(
        self,
        settings: EnergySettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        control: StationControl | None = None,
        directory: Directory | None = None,
        groups: TokenGroups | None = None,
        electors: ElectorFactory = default_elector,
        consumer_tuning: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._control = control
        self._directory = directory
        self._groups = groups
        self._electors = electors
        self._tuning = consumer_tuning or {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._channels: list[grpc.aio.Channel] = []

    def _channel(self, address: str | None, timeout_s: float) -> grpc.aio.Channel | None:
        channel = service_channel(self.settings, address, timeout_s)
        if channel is not None:
            self._channels.append(channel)
        return channel

    async def start(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings.database)
        await upgrade(self.engine, MIGRATIONS)
        self.sessions = session_factory(self.engine)
        lookup = settings.lookup_timeout_s
        directory = self._directory or GrpcDirectory(
            self._channel(settings.stations_address, lookup), lookup, settings.directory_ttl_s
        )
        groups = self._groups or GrpcTokenGroups(
            self._channel(settings.authorization_address, lookup), lookup
        )
        control = self._control or GatewayStationControl(
            self._channel(settings.gateway_address, settings.profile_timeout_s),
            settings.profile_timeout_s,
        )
        self.producer = await connect_producer(settings)
        publisher = KafkaPublisher(self.producer, self.clock)
        deps = ControllerDeps(self.sessions, directory, control, publisher, self.clock, settings)
        self.supervisor = Supervisor(deps, self._electors)
        self._spawn(self.supervisor.discover(settings.rebalance_interval_s))
        kafka = client_kwargs(settings)
        bootstrap = kafka.pop("bootstrap_servers")
        events = EnergyEvents(
            self.sessions, self.clock, directory, groups, self.supervisor.on_changes
        )
        await events.load()
        self.consumer: BatchConsumer = energy_consumer(
            bootstrap, events, self.producer, settings.consumer_group, extra=kafka, **self._tuning
        )
        await self.consumer.start()
        self._spawn(self.consumer.run())
        self._spawn(run_pruner(self.sessions, settings.processed_events_retention))
        api = ApiDeps(
            self.sessions, directory, self.supervisor, publisher, settings, self.clock, new_id
        )
        self.grpc = GrpcServer(
            settings.grpc_host, settings.grpc_port, TokenRegistry(settings.api_tokens_file)
        )
        self.grpc.add(pb_grpc.add_EnergyServicer_to_server, EnergyService(api), SERVICE_NAME)
        self.grpc_port = await self.grpc.start()
        log.info("energy ready", grpc_port=self.grpc_port)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await self.grpc.stop(5)
        await self.consumer.stop()
        await self.supervisor.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.producer.stop()
        for channel in self._channels:
            await channel.close()
        await self.engine.dispose()


async def run(settings: EnergySettings) -> None:
    configure_logging("energy", settings.log_level)
    setup_telemetry("energy", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = EnergyApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("energy stopping")
    await app.stop()
