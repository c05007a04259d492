"""What every installation of the chart must have, checked on the rendered manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chargegrid.platform.settings import GRPC_PORTS as PLATFORM_GRPC_PORTS
from tests.unit.chart.conftest import CI_VALUES, Manifest, Render, helm_template

DEFAULT = CI_VALUES / "default-values.yaml"
PRODUCTION = CI_VALUES / "production-values.yaml"
EVERYTHING = CI_VALUES / "everything-values.yaml"
PREFIX = "chargegrid"
SERVICES = (
    "gateway",
    "stations",
    "authorization",
    "session",
    "billing",
    "firmware",
    "energy",
    "analytics",
    "roaming",
)
PER_SERVICE_KINDS = (
    "Deployment",
    "Service",
    "ServiceAccount",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "ConfigMap",
)
GRPC_PORTS = {name: port for name, port in PLATFORM_GRPC_PORTS.items() if name in SERVICES}
#: Settings whose values are secrets (docs/configuration.md).
SECRET_SETTINGS = ("DATABASE_URL", "SASL_USERNAME", "SASL_PASSWORD", "SERVICE_TOKEN")


def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} rendered"
    return matches[0]


def deployment(manifests: list[Manifest], service: str) -> Manifest:
    return find(manifests, "Deployment", f"{PREFIX}-{service}")


def container(manifest: Manifest) -> dict[str, Any]:
    pod = manifest["spec"]["template"]["spec"] if manifest["kind"] != "Pod" else manifest["spec"]
    containers: list[dict[str, Any]] = pod["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(manifest: Manifest) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container(manifest).get("env", [])}


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if m["kind"] in {"Deployment", "Job", "Pod"}]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_its_deployment_service_account_hpa_pdb_and_network_policy(
    render: Render, service: str
) -> None:
    manifests = render(PRODUCTION)
    for kind in PER_SERVICE_KINDS:
        find(manifests, kind, f"{PREFIX}-{service}")


def test_without_autoscaling_the_deployments_have_fixed_replicas_and_no_hpa(
    render: Render,
) -> None:
    manifests = render(DEFAULT)
    assert not [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"]
    assert deployment(manifests, "gateway")["spec"]["replicas"] == 2
    for service in SERVICES:
        find(manifests, "PodDisruptionBudget", f"{PREFIX}-{service}")


def test_production_runs_three_gateways_and_scales_them(render: Render) -> None:
    manifests = render(PRODUCTION)
    hpa = find(manifests, "HorizontalPodAutoscaler", f"{PREFIX}-gateway")
    assert hpa["spec"]["minReplicas"] == 3
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{PREFIX}-gateway"
    assert "replicas" not in deployment(manifests, "gateway")["spec"]


@pytest.mark.parametrize("service", SERVICES)
def test_probes_ask_grpc_health_on_the_grpc_port(render: Render, service: str) -> None:
    main = container(deployment(render(DEFAULT), service))
    grpc_port = {p["name"]: p["containerPort"] for p in main["ports"]}["grpc"]
    assert grpc_port == GRPC_PORTS[service]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert main[probe]["grpc"] == {"port": grpc_port}


@pytest.mark.parametrize("values", [DEFAULT, PRODUCTION, EVERYTHING], ids=lambda p: p.stem)
def test_every_container_runs_non_root_read_only_without_capabilities(
    render: Render, values: Path
) -> None:
    for manifest in workloads(render(values)):
        pod = (
            manifest["spec"] if manifest["kind"] == "Pod" else manifest["spec"]["template"]["spec"]
        )
        name = manifest["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        security = container(manifest)["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        mounts = {m["mountPath"] for m in container(manifest)["volumeMounts"]}
        assert "/tmp" in mounts, name  # the only writable path


@pytest.mark.parametrize("values", [DEFAULT, PRODUCTION, EVERYTHING], ids=lambda p: p.stem)
def test_secrets_are_only_referenced_never_rendered(render: Render, values: Path) -> None:
    manifests = render(values)
    assert not [m for m in manifests if m["kind"] == "Secret"]
    referenced = 0
    for manifest in manifests:
        if manifest["kind"] == "ConfigMap":
            for key in manifest["data"]:
                assert not key.endswith(SECRET_SETTINGS), key
    for manifest in workloads(manifests):
        for name, entry in env_of(manifest).items():
            if name.endswith(SECRET_SETTINGS):
                assert "value" not in entry, name
                assert "secretKeyRef" in entry["valueFrom"], name
                referenced += 1
    assert referenced >= len(SERVICES)  # at least the service token in every Deployment


def test_database_urls_come_from_each_services_existing_secret(render: Render) -> None:
    manifests = render(PRODUCTION)
    for service in ("stations", "authorization"):
        entry = env_of(deployment(manifests, service))[f"CHARGEGRID_{service.upper()}_DATABASE_URL"]
        assert entry["valueFrom"]["secretKeyRef"] == {
            "name": f"chargegrid-{service}-db",
            "key": "DATABASE_URL",
        }
    assert not any("DATABASE_URL" in name for name in env_of(deployment(manifests, "gateway")))


def test_kafka_sasl_credentials_and_ca_come_from_existing_secrets(render: Render) -> None:
    manifests = render(PRODUCTION)
    env = env_of(deployment(manifests, "stations"))
    for variable, key in (
        ("CHARGEGRID_KAFKA_SASL_USERNAME", "username"),
        ("CHARGEGRID_KAFKA_SASL_PASSWORD", "password"),
    ):
        assert env[variable]["valueFrom"]["secretKeyRef"] == {
            "name": "chargegrid-kafka",
            "key": key,
        }
    common = find(manifests, "ConfigMap", f"{PREFIX}-common")["data"]
    assert common["CHARGEGRID_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert common["CHARGEGRID_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert common["SSL_CERT_FILE"] == "/etc/chargegrid/kafka-ca/ca.crt"


def test_the_gateway_serves_ocpp_with_tls_passthrough(render: Render) -> None:
    manifests = render(PRODUCTION)
    service = find(manifests, "Service", f"{PREFIX}-gateway-ocpp")
    ports = {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {"ocpp": (9000, "ocpp"), "ocpp-tls": (9443, "ocpp-tls")}
    assert service["spec"]["type"] == "LoadBalancer"  # L4: TLS reaches the pods untouched
    config = find(manifests, "ConfigMap", f"{PREFIX}-gateway")["data"]
    assert config["CHARGEGRID_GATEWAY_TLS_CERT_FILE"] == "/etc/chargegrid/tls/tls.crt"
    assert config["CHARGEGRID_GATEWAY_TLS_CLIENT_CA_FILE"] == "/etc/chargegrid/tls-client-ca/ca.crt"
    grpc = find(manifests, "Service", f"{PREFIX}-gateway")
    assert {p["name"]: p["port"] for p in grpc["spec"]["ports"]}["grpc"] == 50051


def test_the_chart_requires_station_credentials_by_default(render: Render) -> None:
    config = find(render(DEFAULT), "ConfigMap", f"{PREFIX}-gateway")["data"]
    assert config["CHARGEGRID_GATEWAY_REQUIRE_BASIC_AUTH"] == "true"


def test_the_helm_test_stations_present_the_password_from_a_secret(render: Render) -> None:
    pod = find(render(PRODUCTION), "Pod", f"{PREFIX}-test-stations")
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["CHARGEGRID_SIM_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "chargegrid-helmtest-stations",
        "key": "password",
    }


def test_an_ecdsa_certificate_and_mandatory_client_certificates_reach_the_gateway(
    render: Render,
) -> None:
    manifests = render(EVERYTHING)
    config = find(manifests, "ConfigMap", f"{PREFIX}-gateway")["data"]
    assert config["CHARGEGRID_GATEWAY_TLS_ECDSA_CERT_FILE"] == "/etc/chargegrid/tls-ecdsa/tls.crt"
    assert config["CHARGEGRID_GATEWAY_TLS_ECDSA_KEY_FILE"] == "/etc/chargegrid/tls-ecdsa/tls.key"
    assert config["CHARGEGRID_GATEWAY_TLS_REQUIRE_CLIENT_CERTIFICATE"] == "true"
    pod = deployment(manifests, "gateway")["spec"]["template"]["spec"]
    volumes = {v["name"]: v.get("secret", {}).get("secretName") for v in pod["volumes"]}
    assert volumes["tls-ecdsa"] == "chargegrid-gateway-tls-ecdsa"
    mounts = {
        m["name"]: m["mountPath"]
        for m in container(deployment(manifests, "gateway"))["volumeMounts"]
    }
    assert mounts["tls-ecdsa"] == "/etc/chargegrid/tls-ecdsa"


def test_the_gateway_drains_within_its_termination_grace_period(render: Render) -> None:
    gateway = deployment(render(DEFAULT), "gateway")
    pod = gateway["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 120
    config = find(render(DEFAULT), "ConfigMap", f"{PREFIX}-gateway")["data"]
    drain = float(config["CHARGEGRID_GATEWAY_DRAIN_TIMEOUT_S"])
    pre_stop = int(container(gateway)["lifecycle"]["preStop"]["exec"]["command"][1])
    assert drain + pre_stop < pod["terminationGracePeriodSeconds"]
    assert "CHARGEGRID_GATEWAY_DRAIN_RATE_PER_S" in config


def test_a_grace_period_shorter_than_the_drain_is_refused(helm: Path) -> None:
    result = helm_template(helm, sets=("components.gateway.terminationGracePeriodSeconds=60",))
    assert result.returncode != 0
    assert "must exceed drain.timeoutSeconds" in result.stderr


def test_gateway_pods_know_their_name_and_advertise_their_address(render: Render) -> None:
    env = env_of(deployment(render(DEFAULT), "gateway"))
    assert env["CHARGEGRID_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["CHARGEGRID_GATEWAY_ADVERTISED_GRPC_ADDRESS"]["value"] == "$(POD_IP):50051"
    names = list(env)  # $(POD_IP) only expands when POD_IP is defined earlier
    assert names.index("POD_IP") < names.index("CHARGEGRID_GATEWAY_ADVERTISED_GRPC_ADDRESS")


def test_services_find_each_other_through_the_chart(render: Render) -> None:
    manifests = render(DEFAULT)
    gateway = find(manifests, "ConfigMap", f"{PREFIX}-gateway")["data"]
    assert gateway["CHARGEGRID_GATEWAY_STATIONS_ADDRESS"] == f"{PREFIX}-stations:50052"
    assert gateway["CHARGEGRID_GATEWAY_AUTHORIZATION_ADDRESS"] == f"{PREFIX}-authorization:50053"
    assert gateway["CHARGEGRID_GATEWAY_SESSION_ADDRESS"] == f"{PREFIX}-session:50054"
    assert gateway["CHARGEGRID_GATEWAY_BILLING_ADDRESS"] == f"{PREFIX}-billing:50055"
    billing = find(manifests, "ConfigMap", f"{PREFIX}-billing")["data"]
    assert billing["CHARGEGRID_BILLING_STATIONS_ADDRESS"] == f"{PREFIX}-stations:50052"
    stations = find(manifests, "ConfigMap", f"{PREFIX}-stations")["data"]
    assert stations["CHARGEGRID_STATIONS_GATEWAY_ADDRESS"] == f"{PREFIX}-gateway:50051"
    assert stations["CHARGEGRID_STATIONS_UNKNOWN_STATION_POLICY"] == "pending"
    session = find(manifests, "ConfigMap", f"{PREFIX}-session")["data"]
    assert session["CHARGEGRID_SESSION_GATEWAY_ADDRESS"] == f"{PREFIX}-gateway:50051"


@pytest.mark.parametrize("service", ["stations", "authorization", "session", "billing"])
def test_migrations_run_as_pre_install_and_pre_upgrade_hooks(render: Render, service: str) -> None:
    job = find(render(DEFAULT), "Job", f"{PREFIX}-{service}-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert container(job)["command"] == ["python", "-m", f"chargegrid.{service}", "migrate"]
    assert "secretKeyRef" in env_of(job)[f"CHARGEGRID_{service.upper()}_DATABASE_URL"]["valueFrom"]


def test_topics_are_created_by_a_hook_job_before_the_migrations(render: Render) -> None:
    manifests = render(DEFAULT)
    topics = find(manifests, "Job", f"{PREFIX}-topics")
    assert container(topics)["command"][:3] == ["chargegrid", "topics", "create"]
    migrate = find(manifests, "Job", f"{PREFIX}-stations-migrate")
    weight = int(topics["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert weight < int(migrate["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert not [m for m in manifests if m["kind"] == "KafkaTopic"]


def test_strimzi_topics_carry_partitions_retention_and_compaction(render: Render) -> None:
    manifests = render(EVERYTHING)
    topics = {m["spec"]["topicName"]: m for m in manifests if m["kind"] == "KafkaTopic"}
    assert not [m for m in manifests if m["metadata"]["name"] == f"{PREFIX}-topics"]
    assert "ocpp.frames.v1" in topics
    assert "ocpp.frames.v1.dlq" in topics
    presence = topics["station.presence.v1"]
    assert presence["spec"]["config"]["cleanup.policy"] == "compact"
    assert "station.presence.v1.dlq" not in topics
    assert topics["billing.events.v1"]["spec"]["config"]["retention.ms"] == "7776000000"
    assert presence["metadata"]["labels"]["strimzi.io/cluster"] == "events"
    assert len(topics) == 13


def test_the_console_serves_http_on_8080_with_metrics_on_9110(render: Render) -> None:
    manifests = render(DEFAULT)
    ports = {
        p["name"]: p["containerPort"] for p in container(deployment(manifests, "console"))["ports"]
    }
    assert (ports["http"], ports["metrics"]) == (8080, 9110)


def test_enabling_a_component_is_a_values_change(render: Render) -> None:
    disabled = render(DEFAULT, sets=("components.analytics.enabled=false",))
    assert not [m for m in disabled if "analytics" in m["metadata"]["name"]]
    manifests = render(DEFAULT, sets=("components.analytics.enabled=true",))
    for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"):
        find(manifests, kind, f"{PREFIX}-analytics")
    assert container(deployment(manifests, "analytics"))["readinessProbe"]["grpc"]["port"] == 50058


def test_only_pods_that_elect_a_leader_get_an_api_token_and_lease_rights(render: Render) -> None:
    manifests = render(DEFAULT)
    stations = deployment(manifests, "stations")["spec"]["template"]["spec"]
    gateway = deployment(manifests, "gateway")["spec"]["template"]["spec"]
    assert stations["automountServiceAccountToken"] is True
    assert gateway["automountServiceAccountToken"] is False
    role = find(manifests, "Role", f"{PREFIX}-stations-leader")
    assert role["rules"][0]["resources"] == ["leases"]
    binding = find(manifests, "RoleBinding", f"{PREFIX}-stations-leader")
    assert binding["subjects"][0]["name"] == f"{PREFIX}-stations"


def test_network_policy_lets_stations_in_and_keeps_grpc_to_the_release(render: Render) -> None:
    policy = find(render(DEFAULT), "NetworkPolicy", f"{PREFIX}-gateway")
    rules = policy["spec"]["ingress"]
    grpc_rule = next(r for r in rules if {"port": "grpc", "protocol": "TCP"} in r["ports"])
    assert grpc_rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == (
        "chargegrid"
    )
    ocpp_rule = next(r for r in rules if {"port": "ocpp", "protocol": "TCP"} in r["ports"])
    assert "from" not in ocpp_rule  # charge stations connect from anywhere


def test_helm_test_runs_simulated_stations_against_the_gateway(render: Render) -> None:
    pod = find(render(DEFAULT), "Pod", f"{PREFIX}-test-stations")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    command = container(pod)["command"]
    assert command[:2] == ["chargegrid", "sim"]
    assert command[command.index("--url") + 1] == f"ws://{PREFIX}-gateway-ocpp:9000/ocpp"
    assert command[command.index("--stations") + 1] == "3"


@pytest.mark.parametrize(
    ("assignment", "complaint"),
    [
        ("components.gateway.replicas=three", "/components/gateway/replicas"),
        ("default.autoscaling.enabled=yes", "/default/autoscaling/enabled"),
        ("kafka.securityProtocol=TLS", "/kafka/securityProtocol"),
        ("components.gateway.replicaz=3", "replicaz"),
        ("components.stations.config.CHARGEGRID_STATIONS_UNKNOWN_STATION_POLICY=maybe", "POLICY"),
        ("components.teleporter.enabled=true", "teleporter"),
    ],
)
def test_the_values_schema_refuses_wrong_types_and_unknown_keys(
    helm: Path, assignment: str, complaint: str
) -> None:
    # --set-string would make every value a string; --set keeps "three" a string and 3 a number.
    result = helm_template(helm, sets=(assignment,))
    assert result.returncode != 0
    assert "schema" in result.stderr
    assert complaint in result.stderr


def test_the_values_schema_is_current() -> None:
    from scripts import gen_chart_schema

    assert gen_chart_schema.SCHEMA_FILE.read_text() == gen_chart_schema.render()
