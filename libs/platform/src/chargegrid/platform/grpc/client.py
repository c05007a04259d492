"""gRPC channels to other services: bearer token, trace context, deadlines, retries.

Every call gets the caller's token and the current trace context in its metadata and, when
the caller set none, a default deadline: a call without a deadline can hang forever on a
dead peer. Transient UNAVAILABLE answers are retried with backoff by gRPC's own retry
policy (service config), which retries only within the call's deadline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc

from chargegrid.platform.telemetry import grpc_metadata_with_context

DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


def retry_service_config(max_attempts: int = 4) -> str:
    """A service config retrying UNAVAILABLE on every method, with exponential backoff.

    `max_attempts` counts the first try (gRPC caps it at 5); below 2 there are no retries,
    as gRPC rejects a retry policy with fewer attempts.
    """
    method_config: dict[str, object] = {"name": [{}]}
    if max_attempts >= 2:
        method_config["retryPolicy"] = {
            "maxAttempts": max_attempts,
            "initialBackoff": "0.1s",
            "maxBackoff": "2s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    return json.dumps(
        {
            "methodConfig": [method_config],
            # Stop retrying when most calls fail: retries would only add load to a sick peer.
            "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
        }
    )


class _CallDefaults:
    """Adds the token, the trace context and a default timeout to an outgoing call."""

    def __init__(self, token: str | None, default_timeout_s: float) -> None:
        self.token = token
        self.default_timeout_s = default_timeout_s

    def apply(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        # Values stay as given: "-bin" keys carry bytes.
        given: list[tuple[str, Any]] = [(str(k), v) for k, v in (details.metadata or ())]
        if self.token and not any(key == "authorization" for key, _ in given):
            given.append(("authorization", f"Bearer {self.token}"))
        metadata = grpc_metadata_with_context(given)
        timeout = details.timeout if details.timeout is not None else self.default_timeout_s
        return grpc.aio.ClientCallDetails(
            details.method,
            timeout,
            grpc.aio.Metadata(*metadata),
            details.credentials,
            details.wait_for_ready,
        )


class _Intercepting:
    # grpc.aio files each interceptor under one call kind only, hence a class per kind.
    def __init__(self, defaults: _CallDefaults) -> None:
        self.defaults = defaults


class _UnaryUnary(_Intercepting, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(self.defaults.apply(client_call_details), request)


class _UnaryStream(_Intercepting, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(self.defaults.apply(client_call_details), request)


class _StreamUnary(_Intercepting, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        return await continuation(self.defaults.apply(client_call_details), request_iterator)


class _StreamStream(_Intercepting, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        return await continuation(self.defaults.apply(client_call_details), request_iterator)


def create_channel(
    target: str,
    *,
    token: str | None = None,
    default_timeout_s: float = 10.0,
    credentials: grpc.ChannelCredentials | None = None,
    max_attempts: int = 4,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> grpc.aio.Channel:
    """A channel to `target` (host:port) with auth, tracing, deadlines and retries.

    Without `credentials` the channel is plaintext (inside the cluster network); pass
    `grpc.ssl_channel_credentials(...)` for TLS.
    """
    defaults = _CallDefaults(token, default_timeout_s)
    interceptors: list[grpc.aio.ClientInterceptor] = [
        _UnaryUnary(defaults),
        _UnaryStream(defaults),
        _StreamUnary(defaults),
        _StreamStream(defaults),
    ]
    options = [
        ("grpc.service_config", retry_service_config(max_attempts)),
        ("grpc.enable_retries", 1 if max_attempts >= 2 else 0),
        # Pings only while calls are open: they find a dead peer without waking idle channels.
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]
    if credentials is not None:
        return grpc.aio.secure_channel(target, credentials, options, interceptors=interceptors)
    return grpc.aio.insecure_channel(target, options, interceptors=interceptors)
