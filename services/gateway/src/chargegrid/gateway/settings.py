"""Gateway settings (CHARGEGRID_GATEWAY_*; see docs/configuration.md for the table)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from chargegrid.platform.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name = "gateway"

    ocpp_host: str = "0.0.0.0"
    ocpp_port: int = 9000
    #: Stations connect to `<path_prefix>/<station_id>`.
    path_prefix: str = "/ocpp"
    #: Frames above this size get a CALLERROR; above `max_frame_bytes * 4` the socket closes.
    max_frame_bytes: int = 65_536
    #: Messages a station may send per second (burst: twice that); excess is slowed down.
    max_messages_per_s: float = 20.0
    #: A station silent this long is disconnected (heartbeats keep it alive).
    idle_timeout_s: float = 900.0
    ping_interval_s: float | None = 60.0
    ping_timeout_s: float | None = 30.0
    #: Bad frames within `garbage_window_s` after which a station is disconnected.
    garbage_limit: int = 10
    garbage_window_s: float = 60.0
    #: Stations this pod holds at most; beyond it a new station's upgrade gets HTTP 503 with
    #: Retry-After (a held station reconnecting is still let in: it replaces itself). Unset:
    #: the process's open-file limit minus 64 for Kafka, gRPC and files, so the pod refuses
    #: cleanly instead of failing accept() when it runs out of descriptors.
    max_connections: int | None = None
    #: Time a station has to answer a CSMS call.
    call_timeout_s: float = 30.0
    #: Per-message deflate costs ~100 KB per connection; stations rarely need it.
    websocket_compression: bool = False
    heartbeat_interval_s: int = 300
    #: No linger: a station is answered only once its records are acknowledged, so waiting to
    #: fill a batch is pure latency here. Under load, group commit and aiokafka's single
    #: request in flight per broker batch anyway (at a fixed 2,100 MeterValues/s on a slow
    #: 2-core machine: p50 2-3 ms instead of 6-10 ms, p99 6-17 ms instead of 10-52 ms, and
    #: maximum throughput not lower; ADR 006).
    kafka_linger_ms: int = 0
    #: How long a station's answer may wait while a retriable publish error (the broker
    #: restarting, a request timeout) is retried before it gets InternalError. Stations wait
    #: far longer for an answer; a broker restart shorter than this is never seen by one.
    publish_retry_budget_s: float = 5.0
    #: The deciding services' gRPC addresses (CHARGEGRID_STATIONS_ADDRESS, ...); unset = not
    #: deployed, and the fallbacks below decide.
    stations_address: str | None = None
    authorization_address: str | None = None
    session_address: str | None = None
    billing_address: str | None = None
    #: How long a station's message may wait for a decision before the fallback answers.
    decision_timeout_s: float = 2.0
    #: Fallbacks while the deciding services are missing or unreachable.
    boot_fallback: Literal["pending", "accepted"] = "pending"
    boot_retry_interval_s: int = 60
    authorize_fallback: Literal["invalid", "accepted"] = "invalid"
    authorize_cache_ttl_s: float = 300.0
    #: Security profile 1+: every station must present HTTP Basic credentials. Secure by
    #: default; `chargegrid dev` (`make run`) turns it off so unknown stations may connect
    #: without. A station with a password or a required profile never may, whatever this is.
    require_basic_auth: bool = True
    #: How long the stations service's answer to "what must this station present" is kept.
    security_cache_ttl_s: float = 30.0
    #: While the stations service cannot answer, an answer up to this old still counts (a
    #: station known to need credentials stays refused); without one, REQUIRE_BASIC_AUTH decides.
    security_stale_ttl_s: float = 3600.0
    #: Hashed station passwords (JSON {station_id: "pbkdf2_sha256$..."}) used while the
    #: stations service is not deployed.
    station_credentials_file: Path | None = None
    #: TLS (profiles 2 and 3): the wss listener runs when a certificate is configured.
    tls_port: int = 9443
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    #: A second server certificate (ECDSA when the first is RSA, or the other way round),
    #: served on the same listener: stations get the one their cipher suites allow.
    tls_ecdsa_cert_file: Path | None = None
    tls_ecdsa_key_file: Path | None = None
    #: Profile 3: CA that signs station client certificates; a certificate must name the
    #: station id (subject CN) it connects as.
    tls_client_ca_file: Path | None = None
    #: The wss listener requires a client certificate: the TLS handshake of a station without
    #: one fails (profile-3-only listener). Off: certificates are optional there, and a
    #: profile-3 station without one is refused at the HTTP upgrade (401).
    tls_require_client_certificate: bool = False
    #: Every held station's presence is published again this often, so pods that start later
    #: (and a compacted topic) always end with the current owner.
    presence_refresh_s: float = 300.0
    #: On SIGTERM: stop accepting, then close held stations at this rate so they reconnect to
    #: other replicas; whatever is left after `drain_timeout_s` is closed at once. The pod's
    #: terminationGracePeriodSeconds must exceed the timeout.
    drain_rate_per_s: float = 100.0
    drain_timeout_s: float = 90.0
    #: Address stations' commands are forwarded to on this pod (defaults to pod name + port).
    advertised_grpc_address: str | None = None
