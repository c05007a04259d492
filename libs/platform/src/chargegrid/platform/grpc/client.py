"""gRPC channels to other services: bearer token, trace context, deadlines, retries.

Every call gets the caller's token and the current trace context in its metadata and, when
the caller set none, a default deadline: a call without a deadline can hang forever on a
dead peer. Transient UNAVAILABLE answers are retried with backoff by gRPC's own retry
policy (service config), which only retries calls that cannot have had an effect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc

from chargegrid.platform.telemetry import grpc_metadata_with_context


def retry_service_config(max_attempts: int = 4) -> str:
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": [{}],
                    "retryPolicy": {
                        "maxAttempts": max_attempts,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "2s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


class _CallDefaults:
    """Adds metadata and a default timeout to every outgoing call."""

    def __init__(self, token: str | None, default_timeout_s: float) -> None:
        self.token = token
        self.default_timeout_s = default_timeout_s

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        given = [(str(k), str(v)) for k, v in (details.metadata or ())]
        if self.token and not any(key == "authorization" for key, _ in given):
            given.append(("authorization", f"Bearer {self.token}"))
        metadata = grpc_metadata_with_context(given)
        timeout = details.timeout if details.timeout is not None else self.default_timeout_s
        return grpc.aio.ClientCallDetails(
            details.method, timeout, grpc.aio.Metadata(*metadata), details.credentials,
            details.wait_for_ready,
        )  # fmt: skip


class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, defaults: _CallDefaults) -> None:
        self.defaults = defaults

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:  # fmt: skip
        return await continuation(self.defaults.details(client_call_details), request)


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, defaults: _CallDefaults) -> None:
        self.defaults = defaults

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:  # fmt: skip
        return await continuation(self.defaults.details(client_call_details), request)


def create_channel(
    target: str,
    *,
    token: str | None = None,
    default_timeout_s: float = 10.0,
    credentials: grpc.ChannelCredentials | None = None,
    max_attempts: int = 4,
) -> grpc.aio.Channel:
    """A channel to `target` (host:port) with auth, tracing, deadlines and retries."""
    defaults = _CallDefaults(token, default_timeout_s)
    interceptors: list[grpc.aio.ClientInterceptor] = [_UnaryUnary(defaults), _UnaryStream(defaults)]
    options = [
        ("grpc.service_config", retry_service_config(max_attempts)),
        ("grpc.enable_retries", 1),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
    ]
    if credentials is not None:
        return grpc.aio.secure_channel(target, credentials, options, interceptors=interceptors)
    return grpc.aio.insecure_channel(target, options, interceptors=interceptors)
