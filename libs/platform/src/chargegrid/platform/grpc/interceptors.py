"""Server interceptors for observability: a trace span, a log line and metrics per call.

They run outside the auth interceptor so that refused calls (UNAUTHENTICATED,
PERMISSION_DENIED) are traced, logged and counted too; tracing is outermost so log lines
carry the call's trace id. Tokens never reach logs: only the caller's principal name does.
Metrics are module-level because prometheus-client refuses a second registration of a name,
and one process (a test run, for one) may build several servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeAlias

import grpc
import structlog
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram

from chargegrid.platform.grpc.auth import current_principal
from chargegrid.platform.grpc.errors import Continuation, DomainError
from chargegrid.platform.grpc.wrapping import wrap_handler
from chargegrid.platform.telemetry import context_from_grpc_metadata, get_tracer

REQUESTS = Counter(
    "chargegrid_grpc_server_handled_total",
    "gRPC calls completed, by method and status code",
    ["method", "code"],
)
LATENCY = Histogram(
    "chargegrid_grpc_server_handling_seconds",
    "gRPC call duration, by method",
    ["method"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
#: Logged at debug level only: probes call these every few seconds, and the gateway asks
#: Authorize for every id token (each decision is in the authorization audit already).
QUIET_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.",
    "/chargegrid.api.authorization.v1.Authorization/Authorize",
)
_tracer = get_tracer("chargegrid.platform.grpc")

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


def final_code(context: Context, error: BaseException | None) -> grpc.StatusCode:
    """The status a call ended with, from what the handler set or raised."""
    set_code = context.code()
    if isinstance(set_code, grpc.StatusCode):  # abort() or set_code()
        return set_code
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, DomainError):
        return error.code
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        # gRPC cancels the handler both when the deadline passes and when the client leaves.
        remaining = context.time_remaining()
        expired = remaining is not None and remaining <= 0
        return grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


@asynccontextmanager
async def traced(method: str, context: Context) -> AsyncIterator[None]:
    """A SERVER span, child of the caller's span when its metadata carries a trace context."""
    parent = context_from_grpc_metadata(context.invocation_metadata())
    service, _, name = method.lstrip("/").partition("/")
    attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
    with _tracer.start_as_current_span(
        method,
        context=parent,
        kind=SpanKind.SERVER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            code = final_code(context, error)
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            if code is not grpc.StatusCode.OK:
                span.set_status(Status(StatusCode.ERROR, code.name))


@asynccontextmanager
async def logged(method: str, context: Context) -> AsyncIterator[None]:
    """One line per call: method, code, duration and who called (never the token)."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        principal = current_principal()
        # Looked up per call: a logger bound at import would ignore later configuration.
        log = structlog.get_logger("chargegrid.platform.grpc")
        write = log.debug if method.startswith(QUIET_PREFIXES) else log.info
        # A broken log sink (closed stdout, full pipe) must not turn the call into an error.
        with contextlib.suppress(Exception):
            write(
                "grpc call",
                method=method,
                code=final_code(context, error).name,
                ms=round((time.perf_counter() - started) * 1000, 2),
                principal=principal.name if principal else None,
            )


@asynccontextmanager
async def measured(method: str, context: Context) -> AsyncIterator[None]:
    """Prometheus: a count per method and code, a latency histogram per method."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        REQUESTS.labels(method, final_code(context, error).name).inc()
        LATENCY.labels(method).observe(time.perf_counter() - started)


class _AroundEveryCall(grpc.aio.ServerInterceptor):
    """Runs `around(method, context)` around every call, whatever its kind."""

    around: Callable[[str, Context], AbstractAsyncContextManager[None]]

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return wrap_handler(handler, functools.partial(self.around, handler_call_details.method))


class TracingInterceptor(_AroundEveryCall):
    around = staticmethod(traced)


class LoggingInterceptor(_AroundEveryCall):
    around = staticmethod(logged)


class MetricsInterceptor(_AroundEveryCall):
    around = staticmethod(measured)
