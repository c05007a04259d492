"""Composition root of the gateway: builds everything inside `run`, nothing at import time."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine, Mapping
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.api.gateway.v1.presence_pb2 import StationPresence
from chargegrid.gateway.clock import Sources
from chargegrid.gateway.commands.forwarding import PeerForwarder
from chargegrid.gateway.commands.servicer import StationControlService
from chargegrid.gateway.commands.translation import Translator
from chargegrid.gateway.credentials import CredentialVerifier, FileCredentials, ServiceCredentials
from chargegrid.gateway.decisions import AuthorizationCache, FallbackDecisions
from chargegrid.gateway.ocpp16.routes import ROUTES as OCPP16_ROUTES
from chargegrid.gateway.ocpp21.routes import ROUTES as OCPP21_ROUTES
from chargegrid.gateway.ocpp201.routes import ROUTES as OCPP201_ROUTES
from chargegrid.gateway.presence import (
    PresenceDirectory,
    PresenceFollower,
    PresencePublisher,
    connection_seq,
)
from chargegrid.gateway.protocol.schemas import warm_up
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.requirements import (
    FileRequirements,
    NoRequirements,
    SecurityRequirements,
    ServiceRequirements,
)
from chargegrid.gateway.routing import Routes
from chargegrid.gateway.runtime import freeze_startup_heap, raise_open_file_limit
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.service_decisions import ServiceDecisions
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.startup import connect_producer
from chargegrid.platform.grpc import GrpcServer
from chargegrid.platform.grpc.client import create_channel
from chargegrid.platform.logging import configure_logging, get_logger
from chargegrid.platform.telemetry import setup_telemetry, start_metrics_server

log = get_logger(__name__)
STATION_CONTROL = "chargegrid.api.gateway.v1.StationControl"


def build_routes() -> Mapping[OcppVersion, Routes]:
    return {
        OcppVersion.V16: OCPP16_ROUTES,
        OcppVersion.V201: OCPP201_ROUTES,
        OcppVersion.V21: OCPP21_ROUTES,
    }


def build_translators(sources: Sources) -> Mapping[OcppVersion, Translator]:
    from chargegrid.gateway.commands.translate2x import Ocpp2xTranslator
    from chargegrid.gateway.commands.translate16 import Ocpp16Translator

    return {
        OcppVersion.V16: Ocpp16Translator(clock=sources.clock),
        OcppVersion.V201: Ocpp2xTranslator(OcppVersion.V201, clock=sources.clock),
        OcppVersion.V21: Ocpp2xTranslator(OcppVersion.V21, clock=sources.clock),
    }


def build_fallback(settings: GatewaySettings, sources: Sources) -> FallbackDecisions:
    return FallbackDecisions(
        boot_status=settings.boot_fallback,
        boot_retry_interval_s=settings.boot_retry_interval_s,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        authorize_status=settings.authorize_fallback,
        cache=AuthorizationCache(settings.authorize_cache_ttl_s),
        clock=sources.clock,
    )


def service_channel(settings: GatewaySettings, address: str | None) -> grpc.aio.Channel | None:
    if not address:
        return None
    token = settings.service_token.get_secret_value() if settings.service_token else None
    return create_channel(address, token=token, default_timeout_s=settings.decision_timeout_s)


def build_decisions(
    settings: GatewaySettings, sources: Sources, channels: dict[str, grpc.aio.Channel | None]
) -> ServiceDecisions:
    return ServiceDecisions(
        build_fallback(settings, sources),
        stations=channels["stations"],
        authorization=channels["authorization"],
        timeout_s=settings.decision_timeout_s,
        session=channels["session"],
        billing=channels["billing"],
    )


def build_verifier(
    settings: GatewaySettings, stations: grpc.aio.Channel | None
) -> CredentialVerifier | None:
    """Passwords from the stations service, else (or as its fallback) the credentials file."""
    file = (
        FileCredentials(settings.station_credentials_file)
        if settings.station_credentials_file
        else None
    )
    if stations is None:
        return file
    return ServiceCredentials(stations, timeout_s=settings.decision_timeout_s, fallback=file)


def build_requirements(
    settings: GatewaySettings, stations: grpc.aio.Channel | None
) -> SecurityRequirements:
    """What stations must present: from the stations service, else the credentials file."""
    if stations is not None:
        return ServiceRequirements(
            stations,
            timeout_s=settings.decision_timeout_s,
            cache_ttl_s=settings.security_cache_ttl_s,
            stale_ttl_s=settings.security_stale_ttl_s,
        )
    if settings.station_credentials_file:
        return FileRequirements(settings.station_credentials_file)
    return NoRequirements()


def advertised_address(settings: GatewaySettings, port: int) -> str:
    """Where peer pods reach this pod's StationControl (pod IP in Kubernetes)."""
    if settings.advertised_grpc_address:
        return settings.advertised_grpc_address
    host = settings.grpc_host if settings.grpc_host not in ("0.0.0.0", "::", "") else None
    return f"{host or settings.pod_name}:{port}"


class GatewayApp:
    """One gateway pod: OCPP server, StationControl gRPC, presence, Kafka producer."""

    def __init__(self, settings: GatewaySettings, sources: Sources | None = None) -> None:
        self.settings = settings
        self.sources = sources or Sources()
        self.registry = ConnectionRegistry()
        self.directory = PresenceDirectory()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        settings = self.settings
        for version, routes in build_routes().items():
            warm_up(version, list(routes))
        self.producer = await connect_producer(settings)
        factory = EnvelopeFactory(f"gateway/{settings.pod_name}")
        token = settings.service_token.get_secret_value() if settings.service_token else None
        self.forwarder = PeerForwarder(token, settings.call_timeout_s)
        servicer = StationControlService(
            self.registry,
            self.directory,
            build_translators(self.sources),
            self.forwarder,
            settings.pod_name,
            settings.call_timeout_s,
        )
        self.grpc = GrpcServer(settings.grpc_host, settings.grpc_port, settings.api_tokens_file)
        self.grpc.add(pb_grpc.add_StationControlServicer_to_server, servicer, STATION_CONTROL)
        self.grpc_port = await self.grpc.start()
        self.presence = PresencePublisher(
            self.producer, factory, advertised_address(settings, self.grpc_port)
        )
        kwargs = client_kwargs(settings)
        bootstrap = kwargs.pop("bootstrap_servers")
        kwargs.pop("client_id", None)
        self.follower = PresenceFollower(bootstrap, self.directory, self._heal, **kwargs)
        self._spawn(self.follower.run())
        self._spawn(self._refresh_presence())
        self.channels = {
            "stations": service_channel(settings, settings.stations_address),
            "authorization": service_channel(settings, settings.authorization_address),
            "session": service_channel(settings, settings.session_address),
            "billing": service_channel(settings, settings.billing_address),
        }
        self.server = GatewayServer(
            settings,
            build_routes(),
            GatewayPublisher(self.producer, factory, settings.publish_retry_budget_s),
            build_decisions(settings, self.sources, self.channels),
            self.registry,
            self.sources,
            presence=self.presence,
            directory=self.directory,
            verifier=build_verifier(settings, self.channels["stations"]),
            requirements=build_requirements(settings, self.channels["stations"]),
        )
        await self.server.start()
        log.info("gateway ready", ocpp_port=self.server.port, grpc_port=self.grpc_port)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh_presence(self) -> None:
        """Re-announce every station this pod holds, forever, spread over the period."""
        while True:
            connections = list(self.registry)
            pause = self.settings.presence_refresh_s / max(1, len(connections))
            if not connections:
                await asyncio.sleep(self.settings.presence_refresh_s)
            for connection in connections:
                await asyncio.sleep(pause)
                if self.registry.get(connection.station.station_id) is connection:
                    await self.presence.announce(connection.station, online=True)

    def _heal(self, record: StationPresence) -> None:
        """Another record displaced a station this pod really holds: announce it again."""
        connection = self.registry.get(record.station_id)
        if connection is None:
            return
        if record.online and record.gateway_pod == self.settings.pod_name:
            return
        if connection_seq(connection.station) >= record.connection_seq:
            self._spawn(self.presence.announce(connection.station, online=True))

    async def stop(self) -> None:
        # Not ready any more: Kubernetes takes the pod out of its Services while held
        # stations are moved away; commands forwarded to this pod still work meanwhile.
        await self.grpc.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.drain(self.settings.drain_rate_per_s, self.settings.drain_timeout_s)
        await self.server.stop()
        await self.grpc.stop(5)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.forwarder.close()
        for channel in self.channels.values():
            if channel is not None:
                await channel.close()
        await self.producer.stop()


async def run(settings: GatewaySettings) -> None:
    configure_logging("gateway", settings.log_level)
    setup_telemetry("gateway", settings.otlp_endpoint)
    start_metrics_server(settings.metrics_port, settings.metrics_host)
    open_files, _ = raise_open_file_limit()
    log.info("open file limit", max_open_files=open_files)
    app = GatewayApp(settings)
    await app.start()
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("gateway stopping")
    await app.stop()
