"""Composition root of the authorization service: builds everything inside `start`.

Order matters: the schema is migrated, the engine is loaded from the database, and only
then does the gRPC server answer, so no Authorize is ever decided on an empty engine. The
Kafka consumer connects in the background (with retries), so a broker outage delays
transaction tracking but never takes Authorize down.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import grpc
from aiokafka.errors import KafkaError

from chargegrid.api.authorization.v1.authorization_pb2_grpc import (
    add_AuthorizationServicer_to_server,
)
from chargegrid.authorization.api import SERVICE_NAME, AuthorizationApi
from chargegrid.authorization.audit import DecisionAudit
from chargegrid.authorization.authorizer import Authorizer, RemoteAuthorizer
from chargegrid.authorization.consumers import EVENT_TYPES, EventHandlers
from chargegrid.authorization.domain import Clock, utc_now
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.gateway import StationGateway
from chargegrid.authorization.list_service import ListService
from chargegrid.authorization.local_list_store import LocalListStore
from chargegrid.authorization.local_lists import LocalLists
from chargegrid.authorization.refresher import Refresher
from chargegrid.authorization.roaming import RoamingAuthorizer
from chargegrid.authorization.settings import AuthorizationSettings
from chargegrid.authorization.sites import SiteDirectory
from chargegrid.authorization.store import TokenStore
from chargegrid.authorization.tokens import TokenService
from chargegrid.authorization.transactions import TransactionStore
from chargegrid.platform.bus import (
    BatchConsumer,
    BusUnavailable,
    ConsumerConfig,
    EventConsumer,
    EventProducer,
)
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.retention import run_pruner
from chargegrid.platform.bus.startup import ensure_service_topics, producer_config
from chargegrid.platform.bus.topics import (
    SESSION_EVENTS,
    STATION_EVENTS,
)
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import create_server
from chargegrid.platform.grpc.client import create_channel
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.migrations import upgrade
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


class AuthorizationApp:
    def __init__(
        self,
        settings: AuthorizationSettings,
        *,
        clock: Clock = utc_now,
        remote: RemoteAuthorizer | None = None,
        consumer_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.remote = remote
        self.consumer_options = consumer_options or {}
        self.consumer: EventConsumer | None = None
        self.producer: EventProducer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def _channel(self, address: str | None) -> grpc.aio.Channel | None:
        if not address:
            return None
        token = self.settings.service_token
        return create_channel(
            address,
            token=token.get_secret_value() if token else None,
            default_timeout_s=self.settings.call_timeout_s,
        )

    async def start(self) -> None:
        settings = self.settings
        self.db = create_engine(settings.resolved_database_url())
        await upgrade(self.db, MIGRATIONS)
        sessions = session_factory(self.db)
        self.engine = DecisionEngine()
        token_store = TokenStore(sessions)
        tx_store = TransactionStore(sessions)
        list_store = LocalListStore(sessions)
        self.stations_channel = self._channel(settings.stations_address)
        self.gateway_channel = self._channel(settings.gateway_address)
        self.roaming_channel = self._channel(settings.roaming_address)
        if self.remote is None and self.roaming_channel is not None:
            self.remote = RoamingAuthorizer(
                self.roaming_channel, settings.roaming_timeout_s, settings.roaming_down_for_s
            )
        self.sites = SiteDirectory(
            self.stations_channel, settings.site_cache_ttl_s, settings.call_timeout_s
        )
        self.gateway = StationGateway(self.gateway_channel, settings.call_timeout_s)
        self.audit = DecisionAudit(
            sessions, settings.audit_flush_interval_s, settings.audit_max_queued
        )
        self.local_lists = LocalLists(
            list_store,
            self.engine,
            self.sites,
            self.gateway,
            self.clock,
            settings.max_concurrent_pushes,
        )
        self.tokens = TokenService(
            token_store, list_store, self.engine, self.local_lists, self.clock
        )
        self.authorizer = Authorizer(
            self.engine,
            self.sites,
            self.audit,
            self.clock,
            self.remote,
            cache_lifetime_s=settings.cache_lifetime_s,
        )
        self.refresher = Refresher(
            token_store, tx_store, self.engine, self.clock, settings.refresh_interval_s
        )
        self.handlers = EventHandlers(sessions, tx_store, self.engine, self.local_lists, self.clock)
        loaded = await self.refresher.load()
        api = AuthorizationApi(
            self.authorizer,
            self.tokens,
            ListService(token_store, list_store, self.local_lists, self.clock),
            self.audit,
            self.gateway,
        )
        self.grpc = create_server(settings)
        self.grpc.add(add_AuthorizationServicer_to_server, api, SERVICE_NAME)
        self.grpc_port = await self.grpc.start()
        self._spawn(self.audit.run())
        self._spawn(self.refresher.run())
        if settings.consume_events:
            self._spawn(self._consume())
            self._spawn(run_pruner(sessions, settings.processed_events_retention))
        log.info("authorization ready", grpc_port=self.grpc_port, loaded=loaded)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect_consumer(self) -> EventConsumer:
        settings = self.settings
        kwargs = client_kwargs(settings)
        bootstrap = kwargs.pop("bootstrap_servers")
        producer = EventProducer(producer_config(settings))
        await producer.start()
        self.producer = producer
        await ensure_service_topics(settings)
        kwargs.pop("client_id", None)
        config = ConsumerConfig(
            bootstrap_servers=bootstrap,
            group_id=settings.consumer_group,
            topics=[SESSION_EVENTS, STATION_EVENTS],
            event_types=EVENT_TYPES,
            extra=kwargs,
        )
        for key, value in self.consumer_options.items():
            setattr(config, key, value)
        consumer = BatchConsumer(config, self.handlers.batch, producer)
        await consumer.start()
        return consumer

    async def _consume(self) -> None:
        delay = 0.5
        while self.consumer is None:
            try:
                self.consumer = await self._connect_consumer()
            except (BusUnavailable, KafkaError, OSError) as exc:
                if self.producer is not None:
                    await self.producer.stop()
                    self.producer = None
                log.warning("Kafka not reachable yet", error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        await self.consumer.run()

    async def stop(self) -> None:
        await self.grpc.stop(5)
        if self.consumer is not None:
            await self.consumer.stop()
        await self.local_lists.queue.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.audit.flush()
        if self.producer is not None:
            await self.producer.stop()
        for channel in (self.stations_channel, self.gateway_channel, self.roaming_channel):
            if channel is not None:
                await channel.close()
        await self.db.dispose()


async def run(settings: AuthorizationSettings) -> None:
    configure_logging("authorization", settings.log_level)
    setup_telemetry("authorization", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    app = AuthorizationApp(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("authorization stopping")
    await app.stop()
