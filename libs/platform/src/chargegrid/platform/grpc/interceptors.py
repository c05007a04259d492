"""Server interceptors: observability (log line, metrics, trace span) and error mapping.

Observability runs outermost so that refused calls (UNAUTHENTICATED, PERMISSION_DENIED) are
logged and counted too; error mapping runs innermost, next to the servicer, so a
`DomainError` becomes its status code before anything else sees it. Tokens never reach logs:
only the caller's principal name is logged.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram

from chargegrid.platform.grpc.auth import current_principal
from chargegrid.platform.grpc.errors import DomainError, status_for
from chargegrid.platform.grpc.wrapping import wrap_handler
from chargegrid.platform.logging import get_logger
from chargegrid.platform.telemetry import context_from_grpc_metadata, get_tracer

REQUESTS = Counter("chargegrid_grpc_server_handled_total", "gRPC calls handled", ["method", "code"])
LATENCY = Histogram(
    "chargegrid_grpc_server_handling_seconds", "gRPC call duration", ["method"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
log = get_logger("chargegrid.grpc")
#: Probes call these every few seconds: logged at debug level only.
QUIET_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
tracer = get_tracer("chargegrid.grpc")

Continuation = Callable[
    [grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]
]


def _final_code(context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if error is None:
        return "OK"
    if isinstance(error, DomainError):
        return error.code.name
    return "CANCELLED" if isinstance(error, GeneratorExit) else "UNKNOWN"


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method

        @asynccontextmanager
        async def observed(context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[None]:
            parent = context_from_grpc_metadata(context.invocation_metadata())
            token = otel_context.attach(parent)
            started = time.perf_counter()
            error: BaseException | None = None
            try:
                with tracer.start_as_current_span(method, kind=SpanKind.SERVER) as span:
                    try:
                        yield
                    except BaseException as exc:
                        error = exc
                        raise
                    finally:
                        code = _final_code(context, error)
                        if code != "OK":
                            span.set_status(Status(StatusCode.ERROR, code))
            finally:
                otel_context.detach(token)
                elapsed = time.perf_counter() - started
                REQUESTS.labels(method, code).inc()
                LATENCY.labels(method).observe(elapsed)
                principal = current_principal()
                write = log.debug if method.startswith(QUIET_PREFIXES) else log.info
                write("grpc call", method=method, code=code, ms=round(elapsed * 1000, 2),
                         principal=principal.name if principal else None)  # fmt: skip

        return wrap_handler(handler, observed)


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method

        @asynccontextmanager
        async def mapped(context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[None]:
            try:
                yield
            except DomainError as exc:
                code, message = status_for(exc)
                await context.abort(code, message)
            except (grpc.aio.AbortError, GeneratorExit):
                raise
            except Exception as exc:
                log.exception("unhandled error in gRPC handler", method=method)
                code, message = status_for(exc)
                await context.abort(code, message)

        return wrap_handler(handler, mapped)
