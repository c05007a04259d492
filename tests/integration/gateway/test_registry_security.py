"""The gateway with the real stations service behind it: a station's password and security
profile are required at every handshake, even where anonymous stations may connect (as in
`make run`), and an operator's Pending holds the station back as OCPP 1.6 and 2.0.1 say."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as pb_grpc
from chargegrid.gateway.app import build_fallback, build_routes
from chargegrid.gateway.clock import Sources
from chargegrid.gateway.connection import StationNotAccepted
from chargegrid.gateway.credentials import ServiceCredentials
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.requirements import ServiceRequirements
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.service_decisions import ServiceDecisions
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.platform.migrations import upgrade
from chargegrid.stations.api.base import ApiDeps
from chargegrid.stations.api.servicer import SERVICE_NAME, StationsService
from chargegrid.stations.app import MIGRATIONS
from chargegrid.stations.gateway import GatewayCommands
from chargegrid.stations.policy import BootPolicy
from chargegrid.stations.reconcile import BackgroundTasks, Reconciler
from chargegrid.stations.watch import StatusHub

PASSWORD = "correct-horse-battery"
SUBPROTOCOLS = {"1.6": Subprotocol("ocpp1.6"), "2.0.1": Subprotocol("ocpp2.0.1")}
VERSIONS = list(SUBPROTOCOLS)


@dataclass
class Network:
    gateway: GatewayServer
    registry: ConnectionRegistry
    stations: Any
    stations_server: GrpcServer

    def ws(self, station_id: str) -> str:
        return f"ws://127.0.0.1:{self.gateway.port}/ocpp/{station_id}"

    def wss(self, station_id: str) -> str:
        return f"wss://127.0.0.1:{self.gateway.tls_port}/ocpp/{station_id}"

    async def add(self, station_id: str, password: str = "", profile: int = 0) -> None:
        station = pb.Station(id=station_id, required_security_profile=profile)
        await self.stations.CreateStation(
            pb.CreateStationRequest(station=station, password=password)
        )


def _now() -> datetime:
    return datetime.now(UTC)


async def _stations_service(tmp_path: Path, tokens: TokenRegistry) -> GrpcServer:
    engine = create_engine(f"sqlite:///{tmp_path / 'stations.db'}")
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    commands = GatewayCommands(None, timeout_s=1)
    counter = iter(range(1, 1_000_000))
    deps = ApiDeps(
        sessions=sessions,
        clock=_now,
        new_id=lambda: f"gen-{next(counter)}",
        policy=BootPolicy("accept", heartbeat_interval_s=300, retry_interval_s=30),
        commands=commands,
        reconciler=Reconciler(sessions, commands, _now),
        tasks=BackgroundTasks(),
        hub=StatusHub(),
    )
    server = GrpcServer("127.0.0.1", 0, tokens)
    server.add(pb_grpc.add_StationsServicer_to_server, StationsService(deps), SERVICE_NAME)
    return server


@pytest.fixture
async def network(
    kafka_bootstrap: str,
    pki: Path,
    tmp_path: Path,
) -> AsyncIterator[Network]:
    await ensure_topics(kafka_bootstrap, default_topic_specs(partitions=2))
    tokens = TokenRegistry(tmp_path / "tokens.json")
    service_token = tokens.add("gateway", Role.SERVICE)
    operator_token = tokens.add("operator", Role.OPERATOR)
    stations_server = await _stations_service(tmp_path, tokens)
    address = f"127.0.0.1:{await stations_server.start()}"
    channel = create_channel(address, token=service_token, max_attempts=1)
    operator = create_channel(address, token=operator_token)
    settings = GatewaySettings(
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        tls_port=0,
        pod_name="gw-registry",
        require_basic_auth=False,  # anonymous stations may connect, as `make run` allows
        tls_cert_file=pki / "server.crt",
        tls_key_file=pki / "server.key",
        tls_client_ca_file=pki / "ca.crt",
    )
    producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=3))
    await producer.start()
    registry = ConnectionRegistry()
    sources = Sources()
    gateway = GatewayServer(
        settings,
        build_routes(),
        GatewayPublisher(producer, EnvelopeFactory("gateway/registry")),
        ServiceDecisions(build_fallback(settings, sources), channel, None, timeout_s=2),
        registry,
        sources,
        verifier=ServiceCredentials(channel, timeout_s=1, cache_ttl_s=0),
        requirements=ServiceRequirements(channel, timeout_s=1, cache_ttl_s=0),
    )
    await gateway.start()
    yield Network(gateway, registry, pb_grpc.StationsStub(operator), stations_server)
    await gateway.stop()
    await producer.stop()
    await channel.close()
    await operator.close()
    await stations_server.stop(0.2)


def _basic(station_id: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _client_tls(pki: Path, certificate: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    if certificate:
        context.load_cert_chain(str(pki / f"{certificate}.crt"), str(pki / f"{certificate}.key"))
    return context


async def _status_refused(url: str, version: str, **options: Any) -> int:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url, subprotocols=[SUBPROTOCOLS[version]], **options):
            pass
    return refused.value.response.status_code


BOOT = {
    "1.6": ("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "Volt"}),
    "2.0.1": (
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "Volt"}},
    ),
}


async def _call(ws: ClientConnection, action: str, payload: dict[str, Any]) -> list[Any]:
    """Send a CALL and return the answer to it (CSMS calls meanwhile are left unanswered)."""
    unique_id = f"{action}-{id(payload)}"
    await ws.send(json.dumps([2, unique_id, action, payload]))
    while True:
        message = json.loads(await ws.recv())
        if message[0] in (3, 4) and message[1] == unique_id:
            return list(message)


async def _boot(ws: ClientConnection, version: str) -> str:
    answer = await _call(ws, *BOOT[version])
    return str(answer[2]["status"])


# -- issue 22: a station with a password must present it -----------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_station_with_a_password_is_refused_without_credentials(
    network: Network, version: str
) -> None:
    await network.add("CP-PW", PASSWORD)
    assert await _status_refused(network.ws("CP-PW"), version) == 401


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_station_with_its_password_connects_and_boots_accepted(
    network: Network, version: str
) -> None:
    await network.add("CP-PW", PASSWORD)
    async with connect(
        network.ws("CP-PW"),
        subprotocols=[SUBPROTOCOLS[version]],
        additional_headers=_basic("CP-PW"),
    ) as ws:
        assert await _boot(ws, version) == "Accepted"


async def test_an_unknown_station_without_credentials_connects_only_where_the_gateway_allows(
    network: Network,
) -> None:
    async with connect(network.ws("CP-NEW"), subprotocols=[SUBPROTOCOLS["1.6"]]) as ws:
        assert await _boot(ws, "1.6") == "Accepted"


async def test_the_gateway_requires_basic_auth_unless_told_otherwise() -> None:
    assert GatewaySettings().require_basic_auth is True


async def test_a_password_added_later_is_required_from_the_next_connection(
    network: Network,
) -> None:
    await network.add("CP-LATER")
    async with connect(network.ws("CP-LATER"), subprotocols=[SUBPROTOCOLS["1.6"]]):
        pass
    await network.stations.SetStationPassword(
        pb.SetStationPasswordRequest(station_id="CP-LATER", password=PASSWORD)
    )
    assert await _status_refused(network.ws("CP-LATER"), "1.6") == 401


async def test_while_the_stations_service_is_down_a_station_known_to_need_credentials_is_refused(
    network: Network,
) -> None:
    await network.add("CP-PW", PASSWORD)
    assert await _status_refused(network.ws("CP-PW"), "1.6") == 401  # learnt
    await network.stations_server.stop(0)

    assert await _status_refused(network.ws("CP-PW"), "1.6") == 401
    # Never answered for: this gateway lets stations without credentials in, so it connects.
    async with connect(network.ws("CP-NEVER-SEEN"), subprotocols=[SUBPROTOCOLS["1.6"]]) as ws:
        assert ws.subprotocol == "ocpp1.6"


# -- issue 21 §3: per-station security profile ------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_profile_2_station_on_plain_ws_is_refused_even_with_its_password(
    network: Network, version: str
) -> None:
    await network.add("CP-P2", PASSWORD, profile=2)
    refused = await _status_refused(
        network.ws("CP-P2"), version, additional_headers=_basic("CP-P2")
    )
    assert refused == 401


async def test_a_profile_2_station_connects_with_its_password_over_tls(
    network: Network,
    pki: Path,
) -> None:
    await network.add("CP-P2", PASSWORD, profile=2)
    async with connect(
        network.wss("CP-P2"),
        subprotocols=[SUBPROTOCOLS["2.0.1"]],
        ssl=_client_tls(pki),
        additional_headers=_basic("CP-P2"),
    ) as ws:
        assert await _boot(ws, "2.0.1") == "Accepted"


async def test_a_profile_3_station_without_a_client_certificate_is_refused_at_the_upgrade(
    network: Network,
    pki: Path,
) -> None:
    await network.add("CP-MTLS", PASSWORD, profile=3)
    refused = await _status_refused(
        network.wss("CP-MTLS"), "2.0.1", ssl=_client_tls(pki), additional_headers=_basic("CP-MTLS")
    )
    assert refused == 401


async def test_a_profile_3_station_with_its_client_certificate_connects(
    network: Network,
    pki: Path,
) -> None:
    await network.add("CP-MTLS", profile=3)
    async with connect(
        network.wss("CP-MTLS"),
        subprotocols=[SUBPROTOCOLS["2.0.1"]],
        ssl=_client_tls(pki, "station"),
    ) as ws:
        assert await _boot(ws, "2.0.1") == "Accepted"


async def test_a_listener_requiring_client_certificates_fails_the_tls_handshake_without_one(
    kafka_bootstrap: str,
    pki: Path,
) -> None:
    settings = GatewaySettings(
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        tls_port=0,
        tls_cert_file=pki / "server.crt",
        tls_key_file=pki / "server.key",
        tls_client_ca_file=pki / "ca.crt",
        tls_require_client_certificate=True,
        boot_fallback="accepted",
    )
    producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=3))
    await producer.start()
    sources = Sources()
    gateway = GatewayServer(
        settings,
        build_routes(),
        GatewayPublisher(producer, EnvelopeFactory("gateway/mtls")),
        build_fallback(settings, sources),
        ConnectionRegistry(),
        sources,
    )
    await gateway.start()
    url = f"wss://127.0.0.1:{gateway.tls_port}/ocpp/CP-MTLS"
    try:
        # TLS 1.2, where the handshake itself carries the refusal (in 1.3 the client learns it
        # only at its first read); it is an alert or a reset, never an HTTP answer.
        without = _client_tls(pki)
        without.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            async with connect(url, subprotocols=[SUBPROTOCOLS["1.6"]], ssl=without):
                pass
        async with connect(
            url, subprotocols=[SUBPROTOCOLS["1.6"]], ssl=_client_tls(pki, "station")
        ) as ws:
            assert await _boot(ws, "1.6") == "Accepted"
    finally:
        await gateway.stop()
        await producer.stop()


# -- issue 21 §3: Pending by the operator ------------------------------------------------------

HEARTBEAT: tuple[str, dict[str, Any]] = ("Heartbeat", {})
STATUS = {
    "1.6": (
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    ),
    "2.0.1": (
        "StatusNotification",
        {
            "timestamp": "2026-12-06T20:00:00Z",
            "connectorStatus": "Available",
            "evseId": 1,
            "connectorId": 1,
        },
    ),
}


async def _set_status(network: Network, station_id: str, status: int) -> None:
    await network.stations.SetRegistrationStatus(
        pb.SetRegistrationStatusRequest(station_id=station_id, registration_status=status)
    )


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_station_put_back_to_pending_is_answered_pending_at_its_next_boot(
    network: Network, version: str
) -> None:
    await network.add("CP-HOLD")
    await _set_status(network, "CP-HOLD", pb.REGISTRATION_STATUS_PENDING)
    async with connect(network.ws("CP-HOLD"), subprotocols=[SUBPROTOCOLS[version]]) as ws:
        answer = await _call(ws, *BOOT[version])
        assert (answer[2]["status"], answer[2]["interval"]) == ("Pending", 30)


@pytest.mark.parametrize("version", VERSIONS)
async def test_while_pending_other_messages_are_answered_security_error(
    network: Network, version: str
) -> None:
    await network.add("CP-HOLD")
    await _set_status(network, "CP-HOLD", pb.REGISTRATION_STATUS_PENDING)
    async with connect(network.ws("CP-HOLD"), subprotocols=[SUBPROTOCOLS[version]]) as ws:
        assert await _boot(ws, version) == "Pending"
        heartbeat = await _call(ws, *HEARTBEAT)
        status = await _call(ws, *STATUS[version])
        assert heartbeat[0] == 4
        assert heartbeat[2] == "SecurityError"
        assert status[0] == 4
        assert status[2] == "SecurityError"
        # ... and the station stays connected: it boots again after the interval.
        assert await _boot(ws, version) == "Pending"


@pytest.mark.parametrize(
    ("version", "allowed", "refused"),
    [
        ("1.6", ("GetConfiguration", {}), ("RemoteStartTransaction", {"idTag": "TAG"})),
        (
            "2.0.1",
            ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}),
            (
                "RequestStartTransaction",
                {"idToken": {"idToken": "T", "type": "ISO14443"}, "remoteStartId": 1},
            ),
        ),
    ],
)
async def test_while_pending_the_csms_sends_only_provisioning_calls(
    network: Network,
    version: str,
    allowed: tuple[str, dict[str, Any]],
    refused: tuple[str, dict[str, Any]],
) -> None:
    await network.add("CP-HOLD")
    await _set_status(network, "CP-HOLD", pb.REGISTRATION_STATUS_PENDING)
    async with connect(network.ws("CP-HOLD"), subprotocols=[SUBPROTOCOLS[version]]) as ws:
        assert await _boot(ws, version) == "Pending"
        connection = network.registry.get("CP-HOLD")
        assert connection is not None
        with pytest.raises(StationNotAccepted):
            await connection.call(*refused, timeout_s=2)
        sent = asyncio.create_task(connection.call(*allowed, timeout_s=5))
        request = json.loads(await ws.recv())
        assert request[2] == allowed[0]
        answer: dict[str, Any] = (
            {"configurationKey": []} if version == "1.6" else {"status": "Accepted"}
        )
        await ws.send(json.dumps([3, request[1], answer]))
        assert await sent == answer


async def test_a_notify_report_a_pending_201_station_sends_is_processed(network: Network) -> None:
    await network.add("CP-HOLD")
    await _set_status(network, "CP-HOLD", pb.REGISTRATION_STATUS_PENDING)
    async with connect(network.ws("CP-HOLD"), subprotocols=[SUBPROTOCOLS["2.0.1"]]) as ws:
        assert await _boot(ws, "2.0.1") == "Pending"
        report = {"requestId": 1, "generatedAt": "2026-12-06T20:00:00Z", "seqNo": 0}
        assert (await _call(ws, "NotifyReport", report))[0] == 3


async def test_a_station_accepted_again_is_served_fully_after_its_next_boot(
    network: Network,
) -> None:
    await network.add("CP-HOLD")
    await _set_status(network, "CP-HOLD", pb.REGISTRATION_STATUS_PENDING)
    async with connect(network.ws("CP-HOLD"), subprotocols=[SUBPROTOCOLS["1.6"]]) as ws:
        assert await _boot(ws, "1.6") == "Pending"
        await _set_status(network, "CP-HOLD", pb.REGISTRATION_STATUS_ACCEPTED)
        assert await _boot(ws, "1.6") == "Accepted"
        assert (await _call(ws, *HEARTBEAT))[0] == 3


async def test_a_rejected_station_is_sent_nothing(network: Network) -> None:
    await network.add("CP-NO")
    await _set_status(network, "CP-NO", pb.REGISTRATION_STATUS_REJECTED)
    async with connect(network.ws("CP-NO"), subprotocols=[SUBPROTOCOLS["2.0.1"]]) as ws:
        assert await _boot(ws, "2.0.1") == "Rejected"
        connection = network.registry.get("CP-NO")
        assert connection is not None
        with pytest.raises(StationNotAccepted):
            await connection.call("GetVariables", {"getVariableData": []}, timeout_s=2)
        assert (await _call(ws, *HEARTBEAT))[2] == "SecurityError"
