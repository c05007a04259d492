"""Composition root of the gateway: builds everything inside `run`, nothing at import time."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Mapping

from chargegrid.gateway.clock import Sources
from chargegrid.gateway.decisions import AuthorizationCache, FallbackDecisions
from chargegrid.gateway.ocpp16.routes import ROUTES as OCPP16_ROUTES
from chargegrid.gateway.protocol.schemas import warm_up
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.routing import Routes
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
from chargegrid.platform.grpc import GrpcServer
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)


def build_routes() -> Mapping[OcppVersion, Routes]:
    return {OcppVersion.V16: OCPP16_ROUTES, OcppVersion.V201: {}, OcppVersion.V21: {}}


def build_decisions(settings: GatewaySettings, sources: Sources) -> FallbackDecisions:
    return FallbackDecisions(
        boot_status=settings.boot_fallback,
        boot_retry_interval_s=settings.boot_retry_interval_s,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        authorize_status=settings.authorize_fallback,
        cache=AuthorizationCache(settings.authorize_cache_ttl_s),
        clock=sources.clock,
    )


def producer_config(settings: GatewaySettings) -> ProducerConfig:
    kwargs = client_kwargs(settings)
    bootstrap = kwargs.pop("bootstrap_servers")
    return ProducerConfig(
        bootstrap_servers=bootstrap,
        idempotence=settings.kafka_idempotence,
        compression=settings.kafka_compression,
        publish_timeout_s=settings.kafka_publish_timeout_s,
        extra=kwargs,
    )


async def start_producer(settings: GatewaySettings) -> EventProducer:
    """Connect to Kafka, retrying: the gateway must not accept stations it cannot serve."""
    delay = 0.5
    while True:
        producer = EventProducer(producer_config(settings))
        try:
            await producer.start()
            await ensure_topics(
                settings.kafka_bootstrap_servers,
                default_topic_specs(
                    settings.kafka_topic_partitions, settings.kafka_replication_factor
                ),
            )
            return producer
        except (BusUnavailable, OSError) as exc:
            await producer.stop()
            log.warning("Kafka not reachable yet", error=str(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


async def run(settings: GatewaySettings) -> None:
    configure_logging("gateway", settings.log_level)
    setup_telemetry("gateway", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port)
    for version, routes in build_routes().items():
        warm_up(version, list(routes))
    sources = Sources()
    producer = await start_producer(settings)
    publisher = GatewayPublisher(producer, EnvelopeFactory(f"gateway/{settings.pod_name}"))
    registry = ConnectionRegistry()
    server = GatewayServer(
        settings, build_routes(), publisher, build_decisions(settings, sources), registry, sources
    )
    grpc_server = GrpcServer(settings.grpc_host, settings.grpc_port, settings.api_tokens_file)
    await grpc_server.start()
    await server.start()
    log.info("gateway ready", ocpp_port=server.port, grpc_port=settings.grpc_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("gateway stopping")
    await server.stop()
    await grpc_server.stop(5)
    await producer.stop()
