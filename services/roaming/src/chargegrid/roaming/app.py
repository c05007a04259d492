"""Composition root of the roaming service: everything is built inside `start`.

Start order: database (migrated), stores, the OCPI client, the outbox worker, the sources of
what we publish (locations from stations + station events, tariffs from billing), the OCPI
HTTP server, then the gRPC admin server, so the service reports SERVING only once it can do
its work. `stop` reverses it; what is left in the outbox goes out at the next start.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.roaming.v1 import roaming_pb2_grpc as pb_grpc
from chargegrid.api.roaming.v1.authorization_pb2_grpc import (
    add_RoamingAuthorizationServicer_to_server,
)
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, create_channel
from chargegrid.platform.http_server import HttpServer
from chargegrid.platform.leader import elector_for
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server
from chargegrid.roaming import authorization_api
from chargegrid.roaming.api import SERVICE_NAME, RoamingAdminService
from chargegrid.roaming.client import OcpiClient, Party
from chargegrid.roaming.clock import Clock, utc_now
from chargegrid.roaming.consumers import StationEvents, station_consumer
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.flows.commands import CommandRunner
from chargegrid.roaming.flows.consumer import flows_consumer
from chargegrid.roaming.flows.pushes import Flows
from chargegrid.roaming.flows.unowned import UnownedCdrs
from chargegrid.roaming.http import build_http_app
from chargegrid.roaming.locations.source import Registry, StationsRegistry
from chargegrid.roaming.locations.store import LocationStore
from chargegrid.roaming.locations.sync import LocationSync
from chargegrid.roaming.modules import build_modules
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.outbox import Outbox, OutboxWorker
from chargegrid.roaming.partners import PartnerStore
from chargegrid.roaming.realtime import RealtimeAuthorization
from chargegrid.roaming.settings import RoamingSettings
from chargegrid.roaming.tariffs.source import BillingTariffs, Tariffs, TariffSync
from chargegrid.roaming.tariffs.store import TariffStore
from chargegrid.roaming.token_pull import run_token_pulls

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def service_channel(settings: RoamingSettings, address: str | None) -> grpc.aio.Channel | None:
    if not address:
        return None
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return create_channel(address, token=token, default_timeout_s=settings.call_timeout_s)


class RoamingApp:
    def __init__(
        self,
        settings: RoamingSettings,
        *,
        clock: Clock = utc_now,
        transport: Any = None,
        registry: Registry | None = None,
        tariffs: Tariffs | None = None,
        consumer_tuning: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        #: An httpx transport for calls to partners (tests); None = the network.
        self._transport = transport
        self._registry = registry
        self._tariffs = tariffs
        self._tuning = consumer_tuning or {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._channels: list[grpc.aio.Channel] = []

    async def start(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings.database)
        await upgrade(self.engine, MIGRATIONS)
        sessions = session_factory(self.engine)
        registry = build_modules()
        partners = PartnerStore(sessions, self.clock, registry.identifiers())
        outbox = Outbox(sessions, self.clock)
        client = OcpiClient(
            Party(settings.country_code, settings.party_id),
            settings.partner_timeout_s,
            transport=self._transport,
        )
        self.context = RoamingContext(
            settings, sessions, self.clock, partners, outbox, client, registry
        )
        self.worker = OutboxWorker(
            outbox,
            partners,
            client,
            poll_interval_s=settings.outbox_poll_interval_s,
            base_backoff_s=settings.outbox_base_backoff_s,
            max_backoff_s=settings.outbox_max_backoff_s,
            batch_size=settings.outbox_batch_size,
        )
        self._singletons: list[Callable[[], Coroutine[Any, Any, None]]] = [self.worker.run]
        self.locations = LocationStore(
            sessions, self.clock, outbox, partners, settings.country_code, settings.party_id
        )
        self.context.services["locations"] = self.locations
        self._start_location_sync()
        self.tariffs = TariffStore(
            sessions, self.clock, outbox, partners, settings.country_code, settings.party_id
        )
        self.context.services["tariffs"] = self.tariffs
        self._start_tariff_sync()
        await self._start_consumer()
        # One sender of the outbox (its order per object needs one) and one poller of the
        # registry and billing per cluster (a Kubernetes Lease); alone elsewhere.
        self._spawn(elector_for("roaming-outbox").run(self._run_singletons))
        self._spawn(run_pruner(sessions, settings.processed_events_retention))
        self._spawn(self._prune_outbox(outbox))
        gateway = service_channel(settings, settings.gateway_address)
        if gateway is not None:
            self._channels.append(gateway)
        self.commands = CommandRunner(
            gateway, sessions, outbox, self.clock, settings.command_timeout_s
        )
        self.context.services["commands"] = self.commands
        self._spawn(self.commands.run_recovery(max(settings.command_timeout_s, 5.0)))
        self.http = HttpServer(
            build_http_app(self.context), settings.http_host, settings.http_port, name="OCPI HTTP"
        )
        self.http_port = await self.http.start()
        self.grpc = GrpcServer(settings.grpc_host, settings.grpc_port, settings.api_tokens_file)
        self.grpc.add(
            pb_grpc.add_RoamingAdminServicer_to_server,
            RoamingAdminService(self.context),
            SERVICE_NAME,
        )
        self.realtime = RealtimeAuthorization(tokens_of(self.context), partners, client)
        self.grpc.add(
            add_RoamingAuthorizationServicer_to_server,
            authorization_api.RoamingAuthorizationApi(self.realtime),
            authorization_api.SERVICE_NAME,
        )
        self.grpc_port = await self.grpc.start()
        log.info("roaming ready", http_port=self.http_port, grpc_port=self.grpc_port)

    def _start_location_sync(self) -> None:
        registry = self._registry
        if registry is None:
            channel = service_channel(self.settings, self.settings.stations_address)
            if channel is None:
                log.warning("no stations address: locations are not published")
                self.sync = None
                return
            self._channels.append(channel)
            registry = StationsRegistry(channel, self.settings.call_timeout_s)
        self.sync = LocationSync(registry, self.locations, self.settings.locations_sync_interval_s)
        self.context.services["location_sync"] = self.sync
        self._singletons.append(self.sync.run)

    def _start_tariff_sync(self) -> None:
        source = self._tariffs
        if source is None:
            channel = service_channel(self.settings, self.settings.billing_address)
            if channel is None:
                log.warning("no billing address: tariffs are not published")
                self.tariff_sync = None
                return
            self._channels.append(channel)
            source = BillingTariffs(channel, self.settings.call_timeout_s)
        self.tariff_sync = TariffSync(source, self.tariffs, self.settings.tariffs_poll_interval_s)
        self.context.services["tariff_sync"] = self.tariff_sync
        self._singletons.append(self.tariff_sync.run)

    async def _start_consumer(self) -> None:
        settings = self.settings
        self.producer = await connect_producer(settings)
        kafka = client_kwargs(settings)
        bootstrap = kafka.pop("bootstrap_servers")
        kafka["fetch_max_wait_ms"] = settings.consumer_fetch_max_wait_ms
        self.consumer = station_consumer(
            bootstrap,
            StationEvents(self.locations),
            self.producer,
            settings.consumer_group,
            extra=kafka,
            **self._tuning,
        )
        await self.consumer.start()
        self._spawn(self.consumer.run())
        ctx = self.context
        self.flows = Flows(
            ctx.sessions, self.clock, ctx.outbox, ctx.partners, tokens_of(ctx),
            (settings.country_code, settings.party_id), settings.currency,
            settings.session_patch_interval_s,
        )  # fmt: skip
        self.flows_consumer = flows_consumer(
            bootstrap, self.flows, self.producer, settings.flows_consumer_group, extra=kafka,
            **self._tuning,
        )  # fmt: skip
        await self.flows_consumer.start()
        self._spawn(self.flows_consumer.run())
        self.unowned = UnownedCdrs(self.flows, timedelta(days=settings.unowned_cdr_retention_days))
        tokens_of(ctx).on_written = self.unowned.wake
        self._singletons.append(lambda: self.unowned.run(settings.unowned_cdr_interval_s))
        if settings.tokens_pull_interval_s > 0:
            interval = settings.tokens_pull_interval_s
            self._singletons.append(lambda: run_token_pulls(ctx, interval))

    async def _prune_outbox(self, outbox: Outbox, every_s: float = 3600.0) -> None:
        keep = timedelta(days=self.settings.outbox_retention_days)
        while True:
            try:
                await outbox.prune(keep)
            except Exception as exc:  # the database was away: the next hour prunes it
                log.warning("outbox prune failed", error=repr(exc))
            await asyncio.sleep(every_s)

    async def _run_singletons(self) -> None:
        await asyncio.gather(*(work() for work in self._singletons))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await self.grpc.stop(5)
        await self.http.stop()
        await self.consumer.stop()
        await self.flows_consumer.stop()
        if self.sync is not None:
            self.sync.stop()
        if self.tariff_sync is not None:
            self.tariff_sync.stop()
        await self.worker.stop()
        await self.commands.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.producer.stop()
        await self.context.client.close()
        for channel in self._channels:
            await channel.close()
        await self.engine.dispose()


async def run(settings: RoamingSettings) -> None:
    configure_logging("roaming", settings.log_level)
    setup_telemetry("roaming", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = RoamingApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("roaming stopping")
    await app.stop()
