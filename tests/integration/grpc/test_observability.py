"""Every call, refused ones included, is counted by code, logged without its token and traced."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.platform.grpc import Role
from chargegrid.platform.telemetry import get_tracer, setup_telemetry
from tests.integration.grpc.conftest import STATION_CONTROL, Running

CALL = f"/{STATION_CONTROL}/Call"
GET_CONNECTION = f"/{STATION_CONTROL}/GetConnection"


def _handled(method: str, code: str) -> float:
    labels = {"method": method, "code": code}
    return REGISTRY.get_sample_value("chargegrid_grpc_server_handled_total", labels) or 0.0


async def _eventually(check: Callable[[], bool]) -> None:
    """Wait up to a second for `check`: the server logs, counts and ends its span as the
    handler unwinds, which may be just after the client has its answer."""
    for _ in range(50):
        if check():
            return
        await asyncio.sleep(0.02)


async def _attempt(call: Awaitable[object]) -> None:
    """Make a call whose refusal is the point; the assertions look at what the server saw."""
    with contextlib.suppress(grpc.aio.AioRpcError):
        await call


def _counts() -> dict[str, float]:
    counts = {code: _handled(CALL, code) for code in
              ("OK", "UNAUTHENTICATED", "PERMISSION_DENIED", "INTERNAL")}  # fmt: skip
    # The client's deadline and the server's fire at nearly the same moment: when the client's
    # cancellation arrives first, the server rightly sees CANCELLED.
    counts["cut short"] = _handled(CALL, "DEADLINE_EXCEEDED") + _handled(CALL, "CANCELLED")
    counts["not found"] = _handled(GET_CONNECTION, "NOT_FOUND")
    return counts


async def test_calls_are_counted_by_method_and_final_code(running: Running) -> None:
    expected = {label: count + 1 for label, count in _counts().items()}
    anonymous, anonymous_stub = running.stub(None)
    viewer, viewer_stub = running.stub(Role.VIEWER)
    admin, admin_stub = running.stub(Role.ADMIN)
    async with anonymous, viewer, admin:
        await admin_stub.Call(pb.RawCallRequest(action="Reset"))
        await _attempt(anonymous_stub.Call(pb.RawCallRequest(action="Reset")))
        await _attempt(viewer_stub.Call(pb.RawCallRequest(action="Reset")))
        await _attempt(admin_stub.Call(pb.RawCallRequest(action="Crash")))
        await _attempt(admin_stub.Call(pb.RawCallRequest(action="Slow"), timeout=0.1))
        await _attempt(viewer_stub.GetConnection(pb.GetConnectionRequest(station_id="CP9")))
    await _eventually(lambda: _counts() == expected)
    assert _counts() == expected
    durations = "chargegrid_grpc_server_handling_seconds_count"
    assert (REGISTRY.get_sample_value(durations, {"method": CALL}) or 0) >= 5


async def test_each_call_is_logged_with_its_caller_but_never_its_token(running: Running) -> None:
    viewer, viewer_stub = running.stub(Role.VIEWER)
    with capture_logs() as logs:
        async with viewer:
            await viewer_stub.ListConnections(pb.ListConnectionsRequest())
            await _attempt(viewer_stub.Call(pb.RawCallRequest(action="Reset")))
        await _eventually(lambda: sum(entry["event"] == "grpc call" for entry in logs) == 2)
    calls = [entry for entry in logs if entry["event"] == "grpc call"]
    assert sorted((entry["method"].rsplit("/", 1)[1], entry["code"], entry["principal"])
                  for entry in calls) == [("Call", "PERMISSION_DENIED", "viewer"),
                                          ("ListConnections", "OK", "viewer")]  # fmt: skip
    assert all(isinstance(entry["ms"], float) for entry in calls)
    assert running.tokens[Role.VIEWER] not in repr(logs)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = setup_telemetry("grpc-tests")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # the provider is process-wide; a stopped exporter drops later spans


async def test_the_server_span_continues_the_callers_trace(
    running: Running, spans: InMemorySpanExporter
) -> None:
    admin, admin_stub = running.stub(Role.ADMIN)
    async with admin:
        with get_tracer("grpc-tests").start_as_current_span("operator request") as caller:
            await admin_stub.Call(pb.RawCallRequest(action="Reset"))
            caller_context = caller.get_span_context()
    assert "traceparent" in running.servicer.metadata_seen
    await _eventually(lambda: any(span.name == CALL for span in spans.get_finished_spans()))
    server_span = next(span for span in spans.get_finished_spans() if span.name == CALL)
    assert server_span.kind is trace.SpanKind.SERVER
    assert server_span.context.trace_id == caller_context.trace_id
    assert server_span.parent is not None
    assert server_span.parent.span_id == caller_context.span_id
    assert server_span.attributes is not None
    assert server_span.attributes["rpc.grpc.status_code"] == 0


async def test_a_refused_call_leaves_an_error_span(
    running: Running, spans: InMemorySpanExporter
) -> None:
    viewer, viewer_stub = running.stub(Role.VIEWER)
    async with viewer:
        await _attempt(viewer_stub.Call(pb.RawCallRequest(action="Reset")))
    await _eventually(lambda: any(span.name == CALL for span in spans.get_finished_spans()))
    server_span = next(span for span in spans.get_finished_spans() if span.name == CALL)
    assert server_span.status.status_code is trace.StatusCode.ERROR
    assert server_span.status.description == "PERMISSION_DENIED"
