"""Composition root of the stations service: everything is built inside `start`.

Start order: database (migrated), Kafka producer (for dead letters), the registry consumer,
this replica's watch feed, the offline sweeper, then the gRPC server, so the service reports
SERVING only once it can do its work. `stop` reverses it and lets calls in flight finish.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as pb_grpc
from chargegrid.platform.bus import EventConsumer
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, create_channel
from chargegrid.platform.leader import elector_for
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server
from chargegrid.stations.api.base import ApiDeps
from chargegrid.stations.api.servicer import SERVICE_NAME, StationsService
from chargegrid.stations.certificates.contracts import ContractProvider
from chargegrid.stations.certificates.issuing import CertificateIssuer, IssuerSettings
from chargegrid.stations.certificates.ocsp import OcspForwarder
from chargegrid.stations.certificates.renewal import CertificateRenewal
from chargegrid.stations.certificates.setup import authorities
from chargegrid.stations.clock import Clock, utc_now
from chargegrid.stations.consumers import RegistryEvents, registry_consumer
from chargegrid.stations.gateway import GatewayCommands, StationCommands
from chargegrid.stations.policy import BootPolicy
from chargegrid.stations.reconcile import BackgroundTasks, Reconciler
from chargegrid.stations.settings import StationsSettings
from chargegrid.stations.sweeper import OfflineSweeper
from chargegrid.stations.watch import SiteCache, StatusHub, UpdateTranslator, WatchFeed

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def gateway_channel(settings: StationsSettings) -> grpc.aio.Channel | None:
    if not settings.gateway_address:
        return None
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return create_channel(
        settings.gateway_address, token=token, default_timeout_s=settings.call_timeout_s
    )


class StationsApp:
    def __init__(
        self,
        settings: StationsSettings,
        *,
        clock: Clock = utc_now,
        commands: StationCommands | None = None,
        consumer_tuning: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._commands = commands
        self._tuning = consumer_tuning or {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.background = BackgroundTasks()
        self.hub = StatusHub()

    async def start(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings.database)
        await upgrade(self.engine, MIGRATIONS)
        self.sessions = session_factory(self.engine)
        self.channel = gateway_channel(settings)
        commands = self._commands or GatewayCommands(self.channel, settings.call_timeout_s)
        self.reconciler = Reconciler(self.sessions, commands, self.clock)
        policy = BootPolicy(
            settings.unknown_station_policy,
            settings.heartbeat_interval_s,
            settings.pending_retry_interval_s,
        )
        self.producer = await connect_producer(settings)
        kafka = client_kwargs(settings)
        bootstrap = kafka.pop("bootstrap_servers")
        events = RegistryEvents(self.sessions, self.clock, policy.initial_status, self._reconcile)
        self.consumer: EventConsumer = registry_consumer(
            bootstrap, events, self.producer, settings.consumer_group, extra=kafka, **self._tuning
        )
        await self.consumer.start()
        self._spawn(self.consumer.run())
        self._spawn(run_pruner(self.sessions, settings.processed_events_retention))
        self.sites = SiteCache(self.sessions)
        watch_client = {k: v for k, v in kafka.items() if k != "client_id"}
        self.feed = WatchFeed(
            bootstrap,
            self.hub,
            UpdateTranslator(self.sites, lambda: len(self.hub) > 0),
            **watch_client,
        )
        await self.feed.start()
        self._spawn(self.feed.run())
        self.sweeper = OfflineSweeper(
            self.sessions,
            self.clock,
            default_interval_s=settings.heartbeat_interval_s,
            grace_factor=settings.offline_grace_factor,
            every_s=settings.offline_sweep_interval_s,
            on_offline=self._announce_offline,
        )
        # One sweeper per cluster (a Kubernetes Lease); every process alone elsewhere. The
        # sweep is idempotent, so a brief overlap at a hand-over is harmless.
        self._spawn(elector_for("stations-sweeper").run(self.sweeper.run))
        self.certificates = self._certificates(commands)
        self.renewal = CertificateRenewal(
            self.sessions,
            self.clock,
            commands,
            timedelta(days=settings.certificate_renew_before_days),
            settings.certificate_renewal_check_interval_s,
        )
        self._spawn(elector_for("stations-certificate-renewal").run(self.renewal.run))
        deps = ApiDeps(
            self.sessions,
            self.clock,
            lambda: uuid.uuid4().hex[:12],
            policy,
            commands,
            self.reconciler,
            self.background,
            self.hub,
            certificates=self.certificates,
            ocsp=OcspForwarder(self.clock, settings.ocsp_timeout_s)
            if settings.ocsp_forwarding
            else None,
            contracts=ContractProvider(
                settings.contract_certificate_url, settings.contract_certificate_timeout_s
            )
            if settings.contract_certificate_url
            else None,
        )
        self.grpc = GrpcServer(settings.grpc_host, settings.grpc_port, settings.api_tokens_file)
        self.grpc.add(pb_grpc.add_StationsServicer_to_server, StationsService(deps), SERVICE_NAME)
        self.grpc_port = await self.grpc.start()
        log.info("stations ready", grpc_port=self.grpc_port, policy=policy.unknown_station_policy)

    def _certificates(self, commands: StationCommands) -> CertificateIssuer:
        settings = self.settings
        csms, v2g = authorities(settings, self.clock)
        return CertificateIssuer(
            self.sessions,
            self.clock,
            commands,
            self.background,
            csms,
            v2g,
            IssuerSettings(
                timedelta(days=settings.certificate_validity_days),
                settings.certificate_organization,
                settings.certificate_delivery_delay_s,
                settings.certificate_delivery_attempts,
            ),
        )

    def _reconcile(self, station_id: str) -> None:
        self.background.spawn(f"reconcile:{station_id}", self.reconciler.reconcile(station_id))

    async def _announce_offline(self, station_ids: list[str]) -> None:
        now = self.clock()
        for station_id in station_ids:
            update = pb.StatusUpdate(
                station_id=station_id,
                site_id=await self.sites(station_id),
                online=False,
                kind="offline",
            )
            set_timestamp(update.occurred_at, now)
            self.hub.publish(update)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await self.grpc.stop(5)
        await self.consumer.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.feed.stop()
        await self.background.close()
        await self.producer.stop()
        if self.channel is not None:
            await self.channel.close()
        await self.engine.dispose()


async def run(settings: StationsSettings) -> None:
    configure_logging("stations", settings.log_level)
    setup_telemetry("stations", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = StationsApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stations stopping")
    await app.stop()
