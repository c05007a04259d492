"""Settings resolve service-specific, then shared, then well-known variables."""

import pytest

from chargegrid.platform.settings import ServiceSettings, metrics_port_for


class GatewayLikeSettings(ServiceSettings):
    service_name = "gateway"
    max_frame_bytes: int = 65536


def test_defaults_follow_the_architecture_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "CHARGEGRID_KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    settings = GatewayLikeSettings()
    assert settings.grpc_port == 50051
    assert settings.metrics_port == 9101
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert metrics_port_for("stations") == 9102


def test_service_variable_beats_shared_beats_well_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "plain:9092")
    assert GatewayLikeSettings().kafka_bootstrap_servers == "plain:9092"
    monkeypatch.setenv("CHARGEGRID_KAFKA_BOOTSTRAP_SERVERS", "shared:9092")
    assert GatewayLikeSettings().kafka_bootstrap_servers == "shared:9092"
    monkeypatch.setenv("CHARGEGRID_GATEWAY_KAFKA_BOOTSTRAP_SERVERS", "mine:9092")
    assert GatewayLikeSettings().kafka_bootstrap_servers == "mine:9092"


def test_service_fields_read_their_prefixed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEGRID_GATEWAY_MAX_FRAME_BYTES", "1024")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    settings = GatewayLikeSettings()
    assert settings.max_frame_bytes == 1024
    assert settings.database_url == "postgresql://db/x"


def test_a_wrong_type_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEGRID_GATEWAY_GRPC_PORT", "not-a-port")
    with pytest.raises(ValueError, match="grpc_port"):
        GatewayLikeSettings()


def test_metrics_bind_everywhere_by_default_and_where_the_host_setting_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CHARGEGRID_METRICS_HOST", raising=False)
    assert GatewayLikeSettings().metrics_host == "0.0.0.0"  # Prometheus scrapes pods
    monkeypatch.setenv("CHARGEGRID_METRICS_HOST", "127.0.0.1")  # what `chargegrid dev` sets
    assert GatewayLikeSettings().metrics_host == "127.0.0.1"


def test_the_port_table_needs_no_settings_import() -> None:
    import subprocess
    import sys

    probe = "import sys, chargegrid.platform.ports; print('pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
