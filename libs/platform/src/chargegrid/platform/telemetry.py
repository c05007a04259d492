"""OpenTelemetry tracing, Prometheus metrics and trace-context propagation.

Traces follow a frame from the WebSocket through Kafka to gRPC, so the W3C trace context is
carried in Kafka record headers and gRPC metadata; the helpers here inject and extract it in
one place. Spans are exported over OTLP only when an endpoint is configured. Metrics use
prometheus-client and are served at /metrics on the service's metrics port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

KafkaHeaders = list[tuple[str, bytes]]

_configured = False


def setup_telemetry(service_name: str, otlp_endpoint: str | None = None) -> TracerProvider:
    """Install the global tracer provider once per process; export over OTLP when configured."""
    # The SDK is imported here, not at the top: clients (the CLI) only propagate context.
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    global _configured
    current = trace.get_tracer_provider()
    if _configured and isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _configured = True
    return provider


def get_tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def start_metrics_server(port: int, host: str = "0.0.0.0") -> None:
    """Serve the default Prometheus registry at http://host:port/metrics.

    Services pass their `metrics_host` setting, so `chargegrid dev --host` governs it too."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)


def current_trace_id() -> str | None:
    """Hex trace id of the active span, for log lines; None outside a sampled span."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def kafka_headers_with_context(headers: Iterable[tuple[str, bytes]] = ()) -> KafkaHeaders:
    """`headers` plus the current W3C trace context (traceparent, tracestate)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return list(headers)  # nothing to propagate: skip the propagators on the hot path
    carrier: dict[str, str] = {}
    inject(carrier)
    kept = [(key, value) for key, value in headers if key not in carrier]
    return kept + [(key, value.encode()) for key, value in carrier.items()]


def context_from_kafka_headers(
    headers: Sequence[tuple[str, bytes]] | None,
) -> otel_context.Context:
    """The trace context a producer put in a record's headers (empty context if none)."""
    carrier = {key: value.decode("latin-1") for key, value in headers or ()}
    return extract(carrier)


def grpc_metadata_with_context(
    metadata: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """gRPC metadata plus the current trace context."""
    carrier: dict[str, str] = {}
    inject(carrier)
    kept = [(key, value) for key, value in metadata if key not in carrier]
    return kept + list(carrier.items())


def context_from_grpc_metadata(
    metadata: Iterable[tuple[str, str | bytes]] | Mapping[str, str] | None,
) -> otel_context.Context:
    """The trace context a gRPC client sent in its metadata."""
    items = metadata.items() if isinstance(metadata, Mapping) else (metadata or ())
    carrier = {k: v.decode("latin-1") if isinstance(v, bytes) else v for k, v in items}
    return extract(carrier)
