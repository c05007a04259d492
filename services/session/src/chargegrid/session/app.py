"""Composition root of the session service: everything is built inside `start`.

Start order: database (migrated), Kafka producer (outbox and dead letters), the outbox
publisher, the transaction/station consumer, the outlet sweeper and the GetTransactionStatus
checks after 2.x boots, this replica's watch feed, then the gRPC server, so the service
reports SERVING only once it can do its work. `stop` reverses it: the consumer finishes its
batch, the publisher drains what is left, calls in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.session.v1 import session_pb2_grpc as pb_grpc
from chargegrid.platform.bus import (
    EnvelopeFactory,
    EventConsumer,
)
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, create_channel
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server
from chargegrid.session.api.servicer import SERVICE_NAME, ApiDeps, SessionsService
from chargegrid.session.clock import Clock, utc_now
from chargegrid.session.consumers import session_consumer
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.ids import TransactionIds
from chargegrid.session.outbox import Outbox, OutboxPublisher
from chargegrid.session.settings import SessionSettings
from chargegrid.session.sites import SiteLookup, StationSites, no_sites
from chargegrid.session.station_query import GatewayStationQuery, StationQuery
from chargegrid.session.sweeper import run_sweeper
from chargegrid.session.transaction_status import TransactionStatusChecks
from chargegrid.session.watch import SessionHub, WatchFeed

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def service_channel(
    settings: SessionSettings, address: str | None, timeout_s: float
) -> grpc.aio.Channel | None:
    """A channel to another service with the service token; None when it has no address."""
    if not address:
        return None
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return create_channel(address, token=token, default_timeout_s=timeout_s, max_attempts=1)


class SessionApp:
    def __init__(
        self,
        settings: SessionSettings,
        *,
        clock: Clock = utc_now,
        sites: SiteLookup | None = None,
        station_query: StationQuery | None = None,
        consumer_tuning: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._sites = sites
        self._station_query = station_query
        self._tuning = consumer_tuning or {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.hub = SessionHub()
        self.channels: list[grpc.aio.Channel] = []
        self.status_checks: TransactionStatusChecks | None = None

    async def start(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings.database)
        await upgrade(self.engine, MIGRATIONS)
        self.sessions = session_factory(self.engine)
        self.producer = await connect_producer(settings)
        self.publisher = OutboxPublisher(
            self.sessions,
            self.producer,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
        )
        self._spawn(self.publisher.run())
        self.events = SessionEvents(
            self.sessions,
            Outbox(EnvelopeFactory(f"session/{settings.pod_name}", clock=self.clock)),
            self.clock,
            sites=self._sites or self._site_lookup(),
            update_interval_s=settings.update_interval_s,
            after_commit=self.publisher.wake,
        )
        self.status_checks = self._build_status_checks()
        if self.status_checks is not None:
            self.events.after_resumed_boot = self.status_checks.booted
            self._spawn(self.status_checks.run())
        kafka = client_kwargs(settings)
        bootstrap = kafka.pop("bootstrap_servers")
        self.consumer: EventConsumer = session_consumer(
            bootstrap,
            self.events,
            self.producer,
            settings.consumer_group,
            extra=kafka,
            **self._tuning,
        )
        await self.consumer.start()
        self._spawn(self.consumer.run())
        self._spawn(run_pruner(self.sessions, settings.processed_events_retention))
        self._spawn(run_sweeper(self.events, settings.outlet_free_grace_s))
        watch_client = {k: v for k, v in kafka.items() if k != "client_id"}
        self.feed = WatchFeed(bootstrap, self.hub, **watch_client)
        await self.feed.start()
        self._spawn(self.feed.run())
        deps = ApiDeps(
            self.sessions,
            TransactionIds(self.sessions, block_size=settings.transaction_id_block_size),
            self.hub,
            end_session=self.events.end_session,
            clock=self.clock,
        )
        self.grpc = GrpcServer(settings.grpc_host, settings.grpc_port, settings.api_tokens_file)
        self.grpc.add(pb_grpc.add_SessionsServicer_to_server, SessionsService(deps), SERVICE_NAME)
        self.grpc_port = await self.grpc.start()
        log.info("session ready", grpc_port=self.grpc_port)

    def _site_lookup(self) -> SiteLookup:
        settings = self.settings
        channel = service_channel(
            settings, settings.stations_address, settings.site_lookup_timeout_s
        )
        if channel is None:
            return no_sites
        self.channels.append(channel)
        return StationSites(
            channel,
            timeout_s=self.settings.site_lookup_timeout_s,
            ttl_s=self.settings.site_cache_ttl_s,
        )

    def _build_status_checks(self) -> TransactionStatusChecks | None:
        settings = self.settings
        if not settings.transaction_status_checks:
            return None
        query = self._station_query
        timeout_s = settings.transaction_status_timeout_s
        if query is None:
            channel = service_channel(settings, settings.gateway_address, timeout_s)
            if channel is None:
                return None
            self.channels.append(channel)
            query = GatewayStationQuery(channel, timeout_s)
        return TransactionStatusChecks(
            self.sessions,
            query,
            self.events.close_not_ongoing,
            max_pending=settings.transaction_status_max_pending,
        )

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await self.grpc.stop(5)
        await self.consumer.stop()
        with contextlib.suppress(Exception):  # what is left stays in the outbox for later
            await asyncio.wait_for(self.publisher.drain_once(), 5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.feed.stop()
        await self.producer.stop()
        for channel in self.channels:
            await channel.close()
        await self.engine.dispose()


async def run(settings: SessionSettings) -> None:
    configure_logging("session", settings.log_level)
    setup_telemetry("session", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = SessionApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("session stopping")
    await app.stop()
