"""An asyncio gRPC server with health, reflection, auth, observability and error mapping.

Every service builds its server here so they all behave alike: the standard health service
(SERVING per registered service and for "", NOT_SERVING once shutdown starts, which is what
Kubernetes probes and `make run` wait on), reflection (grpcurl works), bearer-token auth
with roles from the protos, and a graceful stop that lets calls in flight finish.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from chargegrid.platform.grpc.auth import AuthInterceptor
from chargegrid.platform.grpc.interceptors import ErrorMappingInterceptor, ObservabilityInterceptor
from chargegrid.platform.grpc.tokens import TokenRegistry

DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class GrpcServer:
    """Build, then `add` servicers, then `start`; `stop` drains gracefully."""

    def __init__(
        self,
        host: str,
        port: int,
        tokens: TokenRegistry | Path,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        registry = tokens if isinstance(tokens, TokenRegistry) else TokenRegistry(tokens)
        self.address = f"{host}:{port}"
        self.port = port
        self.health = health.aio.HealthServicer()
        self._services: list[str] = []
        self._server = grpc.aio.server(
            interceptors=[
                ObservabilityInterceptor(),
                AuthInterceptor(registry),
                ErrorMappingInterceptor(),
            ],
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
                ("grpc.so_reuseport", 0),
            ],
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)

    def add(self, register: Callable[[Any, grpc.aio.Server], None], servicer: Any,
            service_name: str) -> None:  # fmt: skip
        """Register a servicer: `register` is the generated add_XServicer_to_server."""
        register(servicer, self._server)
        self._services.append(service_name)

    async def start(self) -> int:
        """Bind and serve; return the bound port (useful when 0 asked for a free one)."""
        reflection.enable_server_reflection(
            [*self._services, health.SERVICE_NAME, reflection.SERVICE_NAME], self._server
        )
        self.port = self._server.add_insecure_port(self.address)
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {self.address}")
        await self._server.start()
        for name in ["", *self._services]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Report NOT_SERVING, refuse new calls, let calls in flight finish for `grace_s`."""
        await self.health.enter_graceful_shutdown()
        await self._server.stop(grace_s)

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()
