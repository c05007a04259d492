"""Service settings from environment variables, through pydantic-settings.

Each service subclasses `ServiceSettings` and names itself; a field `foo` of service `gateway`
is read from `CHARGEGRID_GATEWAY_FOO`, else from the shared `CHARGEGRID_FOO`, else (for the
few names operators already know) from `KAFKA_BOOTSTRAP_SERVERS` / `DATABASE_URL`, else the
default. One rule for every service keeps the configuration table predictable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# Re-exported: callers have imported them from here since the start.
from chargegrid.platform.ports import GRPC_PORTS as GRPC_PORTS
from chargegrid.platform.ports import metrics_port_for as metrics_port_for

#: Plain environment names honoured as a last resort, because operators know them already.
WELL_KNOWN_ENV = {
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "database_url": "DATABASE_URL",
}


class _WellKnownEnvSource(PydanticBaseSettingsSource):
    """Reads the plain, unprefixed variable names of WELL_KNOWN_ENV."""

    def __init__(self, settings_cls: type[BaseSettings], environ: dict[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env_name = WELL_KNOWN_ENV.get(field_name)
        value = self._environ.get(env_name) if env_name else None
        return value, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            value, _, _ = self.get_field_value(self.settings_cls.model_fields[name], name)
            if value is not None:
                found[name] = value
        return found


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set `service_name` and add their own fields."""

    service_name: ClassVar[str] = "service"
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    log_level: str = "INFO"
    #: Pod or host name; the Helm chart sets it from the downward API.
    pod_name: str = Field(default_factory=lambda: __import__("socket").gethostname())
    var_dir: Path = Path("var")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    #: Idempotent producer: on for real Kafka; the embedded broker cannot do it.
    kafka_idempotence: bool = False
    #: Producer compression: lz4, gzip, zstd, snappy or none.
    kafka_compression: str = "lz4"
    #: How long a publish may wait for the broker's acknowledgement before it fails.
    kafka_publish_timeout_s: float = 10.0
    #: How long the producer waits to fill a batch: more throughput, a little more latency.
    kafka_linger_ms: int = 2
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_topic_partitions: int = 8
    kafka_replication_factor: int = 1
    grpc_host: str = "0.0.0.0"
    #: -1 = the service's default port; 0 = any free port (tests).
    grpc_port: int = -1
    metrics_port: int = -1
    #: Address the Prometheus /metrics server binds to (`chargegrid dev` sets its --host).
    metrics_host: str = "0.0.0.0"
    #: File of API tokens (name, role, sha256) that gRPC servers accept.
    api_tokens_file: Path = Path("var/api-tokens.json")
    #: The token this service presents to other services.
    service_token: SecretStr | None = None
    otlp_endpoint: str | None = None
    database_url: str | None = None
    #: Days a processed event id is kept for deduplication (longer than topic retention).
    processed_events_retention_days: float = 35.0

    @property
    def processed_events_retention(self) -> timedelta:
        return timedelta(days=self.processed_events_retention_days)

    def model_post_init(self, __context: Any) -> None:
        if self.grpc_port < 0:
            self.grpc_port = GRPC_PORTS.get(self.service_name, 0)
        if self.metrics_port < 0:
            self.metrics_port = metrics_port_for(self.service_name)

    @property
    def grpc_address(self) -> str:
        return f"{self.grpc_host}:{self.grpc_port}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        import os

        prefix = f"CHARGEGRID_{cls.service_name.upper()}_"
        return (
            init_settings,
            EnvSettingsSource(settings_cls, env_prefix=prefix, case_sensitive=False),
            EnvSettingsSource(settings_cls, env_prefix="CHARGEGRID_", case_sensitive=False),
            _WellKnownEnvSource(settings_cls, dict(os.environ)),
            file_secret_settings,
        )
