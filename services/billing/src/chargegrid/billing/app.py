"""Composition root of the billing service: everything is built inside `start`.

Start order: database (migrated), Kafka producer (dead letters and the outbox), lookups of
other services, the session-events consumer, the outbox publisher, then the gRPC server, so
the service reports SERVING only once it can do its work. `stop` reverses it: no new calls,
the consumer finishes and commits its batch, the publisher stops (whatever is left in the
outbox goes out at the next start), then connections close.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.billing.v1 import billing_pb2_grpc as pb_grpc
from chargegrid.billing.api import SERVICE_NAME, ApiDeps, BillingService
from chargegrid.billing.clock import Clock, IdFactory, new_id, utc_now
from chargegrid.billing.consumers import session_consumer
from chargegrid.billing.cost_updates import (
    CostUpdates,
    GatewayDisplay,
    RunningSession,
    StationDisplay,
)
from chargegrid.billing.handlers import SessionEvents
from chargegrid.billing.lookups import GrpcLookups, Lookups
from chargegrid.billing.publisher import OutboxPublisher
from chargegrid.billing.settings import BillingSettings
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, create_channel
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def service_channel(settings: BillingSettings, address: str | None) -> grpc.aio.Channel | None:
    if not address:
        return None
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return create_channel(address, token=token, default_timeout_s=settings.call_timeout_s)


class BillingApp:
    def __init__(
        self,
        settings: BillingSettings,
        *,
        clock: Clock = utc_now,
        ids: IdFactory = new_id,
        lookups: Lookups | None = None,
        display: StationDisplay | None = None,
        consumer_tuning: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.ids = ids
        self._lookups = lookups
        self._display = display
        self._tuning = consumer_tuning or {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._channels: list[grpc.aio.Channel] = []

    def _build_lookups(self) -> Lookups:
        if self._lookups is not None:
            return self._lookups
        settings = self.settings
        stations = service_channel(settings, settings.stations_address)
        authorization = service_channel(settings, settings.authorization_address)
        self._channels = [c for c in (stations, authorization) if c is not None]
        return GrpcLookups(
            stations,
            authorization,
            ttl_s=settings.lookup_cache_ttl_s,
            timeout_s=settings.call_timeout_s,
        )

    def _build_cost_updates(self) -> CostUpdates | None:
        settings = self.settings
        display = self._display
        if display is None and settings.cost_updates:
            gateway = service_channel(settings, settings.gateway_address)
            if gateway is not None:
                self._channels.append(gateway)
                display = GatewayDisplay(gateway, settings.call_timeout_s)
        if display is None:
            return None
        return CostUpdates(
            self.sessions, self.clock, display, max_pending=settings.cost_updates_max_pending
        )

    async def start(self) -> None:
        settings = self.settings
        self.engine = create_engine(settings.database)
        await upgrade(self.engine, MIGRATIONS)
        self.sessions = session_factory(self.engine)
        self.producer = await connect_producer(settings)
        self.publisher = OutboxPublisher(
            self.sessions,
            self.producer,
            poll_interval_s=settings.outbox_poll_interval_s,
            batch_size=settings.outbox_batch_size,
        )
        self.events = SessionEvents(
            self.sessions,
            self._build_lookups(),
            self.clock,
            self.ids,
            EnvelopeFactory(f"billing/{settings.pod_name}", clock=self.clock),
            on_cdr=self.publisher.wake,
        )
        self.cost_updates = self._build_cost_updates()
        if self.cost_updates is not None:
            costs = self.cost_updates
            self.events.on_update = lambda s: costs.session_updated(
                RunningSession(s.id, s.station_id, s.transaction_id)
            )
            self.events.on_closed = costs.session_closed
        kafka = client_kwargs(settings)
        bootstrap = kafka.pop("bootstrap_servers")
        kafka["fetch_max_wait_ms"] = settings.consumer_fetch_max_wait_ms
        self.consumer = session_consumer(
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
        self._spawn(self.publisher.run())
        deps = ApiDeps(self.sessions, self.clock, self.ids)
        self.grpc = GrpcServer(settings.grpc_host, settings.grpc_port, settings.api_tokens_file)
        self.grpc.add(pb_grpc.add_BillingServicer_to_server, BillingService(deps), SERVICE_NAME)
        self.grpc_port = await self.grpc.start()
        log.info("billing ready", grpc_port=self.grpc_port)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        await self.grpc.stop(5)
        await self.consumer.stop()
        await self.publisher.stop()
        if self.cost_updates is not None:
            await self.cost_updates.stop()
        for task in list(self._tasks):  # what is left (the pruner) has nothing to finish
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.producer.stop()
        for channel in self._channels:
            await channel.close()
        await self.engine.dispose()


async def run(settings: BillingSettings) -> None:
    configure_logging("billing", settings.log_level)
    setup_telemetry("billing", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = BillingApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("billing stopping")
    await app.stop()
