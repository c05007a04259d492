"""The WebSocket endpoint `<prefix>/{station_id}`: handshake, subprotocol, connection life.

The handshake refuses what cannot be a station with an HTTP status: a wrong path with 404, a
station id that breaks the product's one station-id rule (`chargegrid.platform.identifiers`,
checked after percent-decoding, so `a%2Fb` and non-ASCII ids are refused as the gRPC APIs
would refuse them) with 400, both counted. It negotiates the newest OCPP version both sides
speak. A station offering none of ocpp1.6, ocpp2.0.1 and ocpp2.1 gets, as the specification
says, a handshake without a subprotocol followed at once by a close. Connected and
Disconnected events frame each connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import ssl
import time
import weakref
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway import metrics
from chargegrid.gateway.clock import Sources
from chargegrid.gateway.connection import ConnectionLimits, StationConnection
from chargegrid.gateway.credentials import CredentialVerifier
from chargegrid.gateway.decisions import Decisions
from chargegrid.gateway.events import station_event
from chargegrid.gateway.handshake import Authenticator, refuse, server_tls_context
from chargegrid.gateway.presence import PresenceDirectory, PresencePublisher
from chargegrid.gateway.protocol.versions import SUBPROTOCOLS, OcppVersion
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import REPLACED, ConnectionRegistry
from chargegrid.gateway.requirements import NoRequirements, SecurityRequirements
from chargegrid.gateway.routing import Routes, StationInfo
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.identifiers import STATION_ID
from chargegrid.platform.logging import bind_station, get_logger

log = get_logger(__name__)
PROTOCOL_ERROR = 1002


def station_id_from_path(path: str, prefix: str) -> str | None:
    """The percent-decoded last segment of `<prefix>/<id>`, or None if the path is not one
    (the id itself is checked against the station-id rule by the caller)."""
    route = urlsplit(path).path
    expected = prefix.rstrip("/") + "/"
    if not route.startswith(expected):
        return None
    encoded = route[len(expected) :]
    if not encoded or "/" in encoded:
        return None
    return unquote(encoded, errors="replace")


#: Descriptors kept for what is not a station: Kafka, gRPC, presence, logs, files.
RESERVED_DESCRIPTORS = 64


def connection_limit(configured: int | None) -> int:
    """`configured`, or what the open-file limit leaves for stations."""
    if configured is not None:
        return configured
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1_000_000
    return max(1, soft - RESERVED_DESCRIPTORS)


def tls_chains(settings: GatewaySettings) -> list[tuple[str, str]]:
    """Every configured (certificate, key) pair of the wss listener."""
    pairs = [
        (settings.tls_cert_file, settings.tls_key_file),
        (settings.tls_ecdsa_cert_file, settings.tls_ecdsa_key_file),
    ]
    return [(str(cert), str(key)) for cert, key in pairs if cert and key]


#: websockets logs every connection's open and close at INFO, as plain text to stdout, from the
#: event loop: a reconnect storm of 20,000 stations wrote 40,000 such lines, about a tenth of the
#: gateway's CPU, and a slow reader of stdout blocks the loop. Connections are counted in
#: metrics and published as events; websockets' warnings and errors still show.
WEBSOCKETS_LOG = logging.getLogger("chargegrid.gateway.websockets")
WEBSOCKETS_LOG.setLevel(logging.WARNING)


class GatewayServer:
    def __init__(
        self,
        settings: GatewaySettings,
        routes: Mapping[OcppVersion, Routes],
        publisher: GatewayPublisher,
        decisions: Decisions,
        registry: ConnectionRegistry,
        sources: Sources | None = None,
        presence: PresencePublisher | None = None,
        directory: PresenceDirectory | None = None,
        verifier: CredentialVerifier | None = None,
        requirements: SecurityRequirements | None = None,
    ) -> None:
        self.settings = settings
        self.routes = routes
        self.publisher = publisher
        self.decisions = decisions
        self.registry = registry
        self.sources = sources or Sources()
        self.presence = presence
        self.directory = directory
        self.limits = ConnectionLimits(
            max_frame_bytes=settings.max_frame_bytes,
            max_messages_per_s=settings.max_messages_per_s,
            garbage_limit=settings.garbage_limit,
            garbage_window_s=settings.garbage_window_s,
        )
        self.authenticator = Authenticator(
            settings.require_basic_auth, verifier, requirements or NoRequirements()
        )
        self._profiles: weakref.WeakKeyDictionary[ServerConnection, int] = (
            weakref.WeakKeyDictionary()
        )
        self._server: Server | None = None
        self._tls_server: Server | None = None
        self.max_connections = connection_limit(settings.max_connections)
        self._limit_logged_at = -1e9
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def tls_port(self) -> int | None:
        if self._tls_server is None:
            return None
        return int(self._tls_server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        settings = self.settings
        self._server = await self._serve(settings.ocpp_port, None)
        chains = tls_chains(settings)
        if chains:
            context = server_tls_context(
                chains,
                str(settings.tls_client_ca_file) if settings.tls_client_ca_file else None,
                settings.tls_require_client_certificate,
            )
            self._tls_server = await self._serve(settings.tls_port, context)
        idle = self.settings.idle_timeout_s
        self._sweeper = asyncio.create_task(self.registry.sweep_idle(idle, min(30.0, idle / 2)))

    async def _serve(self, port: int, context: ssl.SSLContext | None) -> Server:
        return await serve(
            self._handle,
            self.settings.ocpp_host,
            port,
            ssl=context,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            max_size=self.settings.max_frame_bytes * 4,
            ping_interval=self.settings.ping_interval_s,
            ping_timeout=self.settings.ping_timeout_s,
            compression="deflate" if self.settings.websocket_compression else None,
            server_header="ChargeGrid",
            logger=WEBSOCKETS_LOG,
        )

    async def drain(self, rate_per_s: float, timeout_s: float) -> int:
        """Stop accepting, then close held stations at `rate_per_s` so they reconnect to other
        replicas without a thundering herd; each close publishes the presence removal and the
        Disconnected event. Returns how many stations were moved away."""
        for server in (self._server, self._tls_server):
            if server is not None:
                server.close(close_connections=False)
        connections = list(self.registry)
        log.info("draining station connections", stations=len(connections), rate_per_s=rate_per_s)
        pause = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        closing: list[asyncio.Task[None]] = []
        try:
            async with asyncio.timeout(timeout_s):
                for connection in connections:
                    if self.registry.get(connection.station.station_id) is connection:
                        closing.append(asyncio.create_task(connection.drain()))
                        await asyncio.sleep(pause)
                await asyncio.gather(*closing, return_exceptions=True)
        except TimeoutError:
            log.warning("drain timed out; closing the rest at once", left=len(self.registry))
        return len(closing)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for server in (self._server, self._tls_server):
            if server is not None:
                server.close()
                await server.wait_closed()

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        station_id = station_id_from_path(request.path, self.settings.path_prefix)
        if station_id is None:
            return refuse(
                HTTPStatus.NOT_FOUND, f"expected {self.settings.path_prefix}/{{station_id}}", "path"
            )
        problem = STATION_ID.problem(station_id)
        if problem is not None:
            log.warning("station id refused at the handshake", station_id=ascii(station_id))
            return refuse(
                HTTPStatus.BAD_REQUEST,
                f"station id {problem} ({STATION_ID.description})",
                "station_id",
            )
        if (
            self._open_connections() >= self.max_connections
            and self.registry.get(station_id) is None
        ):
            if time.monotonic() - self._limit_logged_at > 10:  # one line per 10 s in a storm
                self._limit_logged_at = time.monotonic()
                log.warning(
                    "connection limit reached: refusing new stations", limit=self.max_connections
                )
            return refuse(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "this gateway holds its maximum of stations; retry later",
                "capacity",
                retry_after_s=30,
            )
        outcome = await self.authenticator.profile(connection, request, station_id)
        if isinstance(outcome, Response):
            return outcome
        self._profiles[connection] = outcome
        return None

    def _open_connections(self) -> int:
        """Upgraded connections (a set's length: O(1)); those still in their handshake are not
        counted, so a burst may pass the limit by the handshakes in flight."""
        return sum(
            len(server.all_connections)
            for server in (self._server, self._tls_server)
            if server is not None
        )

    def _select_subprotocol(
        self, _connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        for candidate in SUBPROTOCOLS:  # newest first
            if candidate in offered:
                return Subprotocol(candidate)
        return None

    async def _handle(self, websocket: ServerConnection) -> None:
        station_id = station_id_from_path(
            websocket.request.path if websocket.request else "", self.settings.path_prefix
        )
        if station_id is None or STATION_ID.problem(station_id) is not None:
            return
        if websocket.subprotocol is None:
            metrics.HANDSHAKE_REFUSED.labels("subprotocol").inc()
            await websocket.close(PROTOCOL_ERROR, "no supported OCPP subprotocol offered")
            return
        bind_station(station_id)
        version = SUBPROTOCOLS[websocket.subprotocol]
        remote = websocket.remote_address
        info = StationInfo(
            station_id=station_id,
            version=version,
            gateway_pod=self.settings.pod_name,
            remote_address=f"{remote[0]}:{remote[1]}" if remote else "",
            connected_at=self.sources.clock(),
            security_profile=self._profiles.get(websocket, 0),
        )
        connection = StationConnection(
            websocket,
            info,
            self.routes[version],
            self.publisher,
            self.decisions,
            self.sources,
            self.limits,
        )
        previous = self.registry.register(connection)
        if previous is not None:
            log.info("station reconnected: closing its previous connection")
            await previous.close(REPLACED, "replaced by a newer connection")
        await self._announce(info, connected=True)
        await self._locate(info, online=True)
        metrics.CONNECTS.labels(version.value).inc()
        gauge = metrics.CONNECTIONS.labels(version.value)
        gauge.inc()
        try:
            await connection.serve()
        finally:
            gauge.dec()
            if self.registry.unregister(connection):
                await self._locate(info, online=False)
            await self._announce(
                info,
                connected=False,
                close_code=websocket.close_code or 0,
                reason=websocket.close_reason or "",
            )

    async def _locate(self, info: StationInfo, *, online: bool) -> None:
        if self.presence is None:
            return
        record = await self.presence.announce(info, online=online)
        if self.directory is not None:
            self.directory.apply(record)

    async def _announce(
        self, info: StationInfo, *, connected: bool, close_code: int = 0, reason: str = ""
    ) -> None:
        if connected:
            event = station_event(
                "connected",
                station_events.StationConnected(
                    gateway_pod=info.gateway_pod,
                    remote_address=info.remote_address,
                    ocpp_version=info.version.to_proto(),
                    security_profile=info.security_profile,
                ),
            )
        else:
            event = station_event(
                "disconnected",
                station_events.StationDisconnected(
                    gateway_pod=info.gateway_pod, close_code=close_code, reason=reason
                ),
            )
        await self.publisher.store_best_effort(info, None, [event])
