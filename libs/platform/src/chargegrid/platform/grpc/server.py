"""An asyncio gRPC server with health, reflection, auth, observability and error mapping.

Every service builds its server here so they all behave alike: the standard health service
(SERVING per registered service and for "", NOT_SERVING once shutdown starts, which is what
Kubernetes probes and `make run` wait on), reflection (grpcurl works), bearer-token auth
with roles from the protos, and a graceful stop that lets calls in flight finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from chargegrid.platform.grpc.auth import AuthInterceptor
from chargegrid.platform.grpc.errors import ErrorMappingInterceptor
from chargegrid.platform.grpc.interceptors import (
    LoggingInterceptor,
    MetricsInterceptor,
    TracingInterceptor,
)
from chargegrid.platform.grpc.tokens import TokenRegistry
from chargegrid.platform.settings import ServiceSettings

DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024

#: Clients built by `create_channel` ping every 30 s during long calls; gRPC's default
#: server policy (one ping per 5 min) would answer that with GOAWAY "too many pings".
_KEEPALIVE_OPTIONS = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
]


class GrpcServer:
    """Build, then `add` servicers, then `start`; `stop` drains gracefully."""

    def __init__(
        self,
        host: str,
        port: int,
        tokens: TokenRegistry | Path,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        credentials: grpc.ServerCredentials | None = None,
    ) -> None:
        registry = tokens if isinstance(tokens, TokenRegistry) else TokenRegistry(tokens)
        self.address = f"{host}:{port}"
        self.port = port
        self.health = health.aio.HealthServicer()
        self._credentials = credentials
        self._services: list[str] = []
        self._started = False
        self._server = grpc.aio.server(
            # The first interceptor is the outermost: tracing sees everything, including the
            # refusals of auth; error mapping sits next to the servicer.
            interceptors=[
                TracingInterceptor(),
                LoggingInterceptor(),
                MetricsInterceptor(),
                AuthInterceptor(registry),
                ErrorMappingInterceptor(),
            ],
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
                ("grpc.so_reuseport", 0),  # a port in use is an error, not a shared port
                *_KEEPALIVE_OPTIONS,
            ],
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)

    def add(
        self, register: Callable[[Any, grpc.aio.Server], None], servicer: Any, service_name: str
    ) -> None:
        """Register a servicer: `register` is the generated add_XServicer_to_server and
        `service_name` the full proto name ("chargegrid.api.gateway.v1.StationControl")."""
        if self._started:
            raise RuntimeError("add every servicer before start()")
        register(servicer, self._server)
        self._services.append(service_name)

    async def start(self) -> int:
        """Bind and serve; return the bound port (useful when 0 asked for a free one)."""
        reflection.enable_server_reflection(
            [*self._services, health.SERVICE_NAME, reflection.SERVICE_NAME], self._server
        )
        if self._credentials is None:
            self.port = self._server.add_insecure_port(self.address)
        else:
            self.port = self._server.add_secure_port(self.address, self._credentials)
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {self.address}")
        await self._server.start()
        self._started = True
        for name in ["", *self._services]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    async def stop(self, grace_s: float = 5.0, drain_s: float = 0.0) -> None:
        """Report NOT_SERVING, wait `drain_s` for load balancers to notice, then refuse new
        calls and give calls in flight `grace_s` to finish before cancelling them."""
        await self.health.enter_graceful_shutdown()
        if drain_s > 0:
            await asyncio.sleep(drain_s)
        await self._server.stop(grace_s)

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()


def create_server(settings: ServiceSettings, **options: Any) -> GrpcServer:
    """The server a service's settings describe (grpc_host, grpc_port, api_tokens_file)."""
    return GrpcServer(settings.grpc_host, settings.grpc_port, settings.api_tokens_file, **options)
