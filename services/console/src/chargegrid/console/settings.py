"""Console settings (CHARGEGRID_CONSOLE_* > CHARGEGRID_*)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from chargegrid.platform.settings import ServiceSettings

#: The services the console calls, in the order of ARCHITECTURE.md.
BACKENDS = (
    "gateway",
    "stations",
    "authorization",
    "session",
    "billing",
    "firmware",
    "energy",
    "analytics",
)


class ConsoleSettings(ServiceSettings):
    service_name: ClassVar[str] = "console"

    http_host: str = "0.0.0.0"
    #: Port of the HTTP API and the dashboard (0 = any free port, tests).
    http_port: int = 8080
    #: gRPC addresses of the services (host:port); unset = that part of the API answers 503.
    gateway_address: str | None = None
    stations_address: str | None = None
    authorization_address: str | None = None
    session_address: str | None = None
    billing_address: str | None = None
    firmware_address: str | None = None
    energy_address: str | None = None
    analytics_address: str | None = None
    #: Deadline of one gRPC call to a service (a station command waits for the station).
    call_timeout_s: float = Field(default=10.0, gt=0)
    #: Deadline of a station command (the gateway waits for the station's answer).
    command_timeout_s: float = Field(default=35.0, gt=0)
    #: Largest request body accepted (bytes); larger ones get 413.
    max_body_bytes: int = Field(default=1 << 20, gt=0)
    #: Events buffered per server-sent-events client; a client this far behind is dropped.
    sse_queue_size: int = Field(default=1000, gt=0)
    #: Seconds between keep-alive comments on an idle event stream.
    sse_keepalive_s: float = Field(default=15.0, gt=0)
    #: Lifetime of an event-stream ticket (`POST /api/v1/events/ticket`); EventSource
    #: reconnects with the same URL, so a page asks for a new ticket when one is refused.
    ticket_ttl_s: float = Field(default=300.0, gt=0)
    #: A station offline longer than this is an alert on the overview.
    offline_alert_minutes: float = Field(default=10.0, ge=0)
    #: The overview is computed at most this often (seconds) and shared meanwhile.
    overview_cache_s: float = Field(default=1.0, ge=0)
    #: How often the live mirror re-reads every open session in full (between reads the
    #: watch stream keeps it current).
    live_resync_s: float = Field(default=60.0, gt=0)
    #: How often the live mirror re-reads every station in full: the longest a record
    #: changed without any status update (UpdateStation, a station that never connected)
    #: takes to show in the station list. Status changes show at once.
    stations_resync_s: float = Field(default=15.0, gt=0)
    #: How often energy-today is re-read from analytics for the overview.
    energy_refresh_s: float = Field(default=30.0, gt=0)

    def model_post_init(self, __context: Any) -> None:
        # No default metrics port of its own: /metrics is served on the HTTP port unless
        # a separate one is set (the Helm chart sets 9110).
        if self.metrics_port < 0:
            self.metrics_port = 0
        super().model_post_init(__context)

    def backend_address(self, service: str) -> str | None:
        address: str | None = getattr(self, f"{service}_address")
        return address
