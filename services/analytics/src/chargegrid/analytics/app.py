"""Composition root of the analytics service: everything is built inside `start`.

Start order: database (migrated), Kafka producer (for dead letters), the ingest consumer,
then the gRPC server, so the service reports SERVING only once it can do its work. `stop`
reverses it. Every figure lives in SQL (see docs/adr/012-analytics-service.md).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc

from chargegrid.analytics import rebuild
from chargegrid.analytics.api import SERVICE_NAME, AnalyticsService
from chargegrid.analytics.authorizations import AuthorizationIngest
from chargegrid.analytics.consumers import FanOut, TopicRouter, analytics_consumer
from chargegrid.analytics.energy import EnergyIngest
from chargegrid.analytics.revenue import RevenueIngest
from chargegrid.analytics.sessions import SessionIngest
from chargegrid.analytics.settings import AnalyticsSettings
from chargegrid.analytics.sites import SiteLookup, StationSites, no_sites
from chargegrid.analytics.state_changes import StateChangeIngest
from chargegrid.api.analytics.v1 import analytics_pb2_grpc as pb_grpc
from chargegrid.platform.bus.envelope import utc_now
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.bus.topics import (
    BILLING_EVENTS,
    SESSION_EVENTS,
    STATION_EVENTS,
    TRANSACTION_EVENTS,
)
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, TokenRegistry, create_channel
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


class AnalyticsApp:
    def __init__(
        self,
        settings: AnalyticsSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        sites: SiteLookup | None = None,
        consumer_tuning: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._sites = sites
        self._tuning = consumer_tuning or {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.channel: grpc.aio.Channel | None = None
        self._rebuilding = asyncio.Lock()

    def _site_lookup(self) -> SiteLookup:
        settings = self.settings
        if self._sites is not None:
            return self._sites
        if not settings.stations_address:
            return no_sites
        token = settings.service_token.get_secret_value() if settings.service_token else None
        channel = create_channel(
            settings.stations_address, token=token, default_timeout_s=settings.site_lookup_timeout_s
        )
        self.channel = channel
        return StationSites(
            channel, timeout_s=settings.site_lookup_timeout_s, ttl_s=settings.site_cache_ttl_s
        )

    async def start(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings.database)
        await upgrade(self.engine, MIGRATIONS)
        self.sessions = session_factory(self.engine)
        self.producer = await connect_producer(settings)
        self.sites = self._site_lookup()
        states = StateChangeIngest(self.sessions, self.sites)
        self.router = TopicRouter(
            {
                TRANSACTION_EVENTS: FanOut(
                    EnergyIngest(self.sessions, self.sites, self.clock),
                    AuthorizationIngest(self.sessions, self.sites),
                    states,
                ),
                STATION_EVENTS: states,
                SESSION_EVENTS: SessionIngest(self.sessions, self.sites, self.clock),
                BILLING_EVENTS: RevenueIngest(self.sessions, self.clock),
            }
        )
        async with self.sessions() as session:
            number = await rebuild.generation(session)
        await self._start_consumer(rebuild.group_name(settings.consumer_group, number))
        self._spawn(run_pruner(self.sessions, settings.processed_events_retention))
        self.grpc = GrpcServer(
            settings.grpc_host, settings.grpc_port, TokenRegistry(settings.api_tokens_file)
        )
        service = AnalyticsService(
            self.sessions, settings.max_query_days, self.rebuild, clock=self.clock
        )
        self.grpc.add(pb_grpc.add_AnalyticsServicer_to_server, service, SERVICE_NAME)
        self.grpc_port = await self.grpc.start()
        log.info("analytics ready", grpc_port=self.grpc_port)

    async def _start_consumer(self, group: str) -> None:
        kafka = client_kwargs(self.settings)
        bootstrap = kafka.pop("bootstrap_servers")
        self.consumer_group = group
        self.consumer = analytics_consumer(
            bootstrap, self.router, self.producer, group, extra=kafka, **self._tuning
        )
        await self.consumer.start()
        self._spawn(self.consumer.run())

    async def rebuild(self, since: datetime) -> tuple[rebuild.Removed, str]:
        """Take back what was counted from `since` on; read every topic again (new group)."""
        async with self._rebuilding:
            await self.consumer.stop()
            async with self.sessions() as session, session.begin():
                removed = await rebuild.take_back(session, since, self.sites)
                number = await rebuild.next_generation(session)
            await self._start_consumer(rebuild.group_name(self.settings.consumer_group, number))
            log.info("analytics rebuild", since=since.isoformat(), group=self.consumer_group)
            return removed, self.consumer_group

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
        await self.producer.stop()
        if self.channel is not None:
            await self.channel.close()
        await self.engine.dispose()


async def run(settings: AnalyticsSettings) -> None:
    configure_logging("analytics", settings.log_level)
    setup_telemetry("analytics", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = AnalyticsApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("analytics stopping")
    await app.stop()
