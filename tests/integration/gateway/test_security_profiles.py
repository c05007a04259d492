"""Security profiles 1-3 at the handshake: Basic over ws and wss, and mutual TLS; the TLS
versions and cipher suites OCPP 2.0.1 requires (A00.FR.318-319), served with an RSA and an
ECDSA certificate at once."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway.app import build_fallback, build_routes
from chargegrid.gateway.clock import Sources
from chargegrid.gateway.credentials import FileCredentials, hash_password
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.requirements import FileRequirements
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig, unpack
from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
from tests.integration.gateway.conftest import RunningGateway, _collect

PASSWORD = "s3cret-Passw0rd-1234"
OCPP16 = [Subprotocol("ocpp1.6")]


@dataclass
class Secured:
    gateway: RunningGateway

    def ws(self, station_id: str) -> str:
        return self.gateway.url(station_id)

    def wss(self, station_id: str) -> str:
        port = self.gateway.server.tls_port
        return f"wss://127.0.0.1:{port}/ocpp/{station_id}"


@pytest.fixture
async def secured(kafka_bootstrap: str, pki: Path, tmp_path: Path) -> AsyncIterator[Secured]:

    await ensure_topics(kafka_bootstrap, default_topic_specs(partitions=2))
    credentials = tmp_path / "credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "CP-BASIC": hash_password(PASSWORD, iterations=1000),
                "CP-TLS": hash_password(PASSWORD, iterations=1000),
            }
        )
    )
    settings = GatewaySettings(
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        tls_port=0,
        pod_name="gw-sec",
        require_basic_auth=True,
        station_credentials_file=credentials,
        tls_cert_file=pki / "server.crt",
        tls_key_file=pki / "server.key",
        tls_ecdsa_cert_file=pki / "server-ecdsa.crt",
        tls_ecdsa_key_file=pki / "server-ecdsa.key",
        tls_client_ca_file=pki / "ca.crt",
        boot_fallback="accepted",
    )
    producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=3))
    await producer.start()
    registry = ConnectionRegistry()
    sources = Sources()
    server = GatewayServer(
        settings,
        build_routes(),
        GatewayPublisher(producer, EnvelopeFactory("gateway/sec")),
        build_fallback(settings, sources),
        registry,
        sources,
        verifier=FileCredentials(credentials),
        requirements=FileRequirements(credentials),
    )
    await server.start()
    running = RunningGateway(server, registry, kafka_bootstrap, producer)
    collector = asyncio.create_task(_collect(kafka_bootstrap, running.events))
    await asyncio.sleep(2.5)
    yield Secured(running)
    collector.cancel()
    await asyncio.gather(collector, return_exceptions=True)
    await server.stop()
    await producer.stop()


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _client_tls(pki: Path, certificate: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    if certificate:
        context.load_cert_chain(str(pki / f"{certificate}.crt"), str(pki / f"{certificate}.key"))
    return context


async def _profile_of(secured: Secured, station_id: str) -> int:
    gateway = secured.gateway
    await gateway.wait_for(lambda: "station.connected" in gateway.types(station_id))
    event = next(e for e in gateway.of(station_id) if e.type == "station.connected")
    return unpack(event, station_events.StationConnected).security_profile


async def test_profile_1_basic_auth_over_ws_is_accepted(secured: Secured) -> None:
    async with connect(
        secured.ws("CP-BASIC"), subprotocols=OCPP16, additional_headers=_basic("CP-BASIC", PASSWORD)
    ) as ws:
        await ws.send('[2, "1", "Heartbeat", {}]')
        assert (await ws.recv()).startswith("[3,")
    assert await _profile_of(secured, "CP-BASIC") == 1


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no credentials"),
        (_basic("CP-BASIC", "wrong"), "wrong password"),
        (_basic("CP-TLS", PASSWORD), "another station's credentials"),
        ({"Authorization": "Basic !!notbase64"}, "garbage header"),
    ],
)
async def test_bad_credentials_are_refused_at_the_handshake_with_401(
    secured: Secured, headers: dict[str, str], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(secured.ws("CP-BASIC"), subprotocols=OCPP16, additional_headers=headers):
            pass
    assert refused.value.response.status_code == 401, why
    assert PASSWORD not in capsys.readouterr().out


async def test_profile_2_basic_auth_over_tls(secured: Secured, pki: Path) -> None:
    async with connect(
        secured.wss("CP-TLS"),
        subprotocols=OCPP16,
        ssl=_client_tls(pki),
        additional_headers=_basic("CP-TLS", PASSWORD),
    ) as ws:
        await ws.send('[2, "1", "Heartbeat", {}]')
        assert (await ws.recv()).startswith("[3,")
    assert await _profile_of(secured, "CP-TLS") == 2


async def test_profile_3_a_client_certificate_naming_the_station(
    secured: Secured, pki: Path
) -> None:
    async with connect(
        secured.wss("CP-MTLS"), subprotocols=OCPP16, ssl=_client_tls(pki, "station")
    ) as ws:
        await ws.send('[2, "1", "Heartbeat", {}]')
        assert (await ws.recv()).startswith("[3,")
    assert await _profile_of(secured, "CP-MTLS") == 3


async def test_a_certificate_for_another_station_is_refused(secured: Secured, pki: Path) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(
            secured.wss("CP-MTLS"), subprotocols=OCPP16, ssl=_client_tls(pki, "intruder")
        ):
            pass
    assert refused.value.response.status_code == 401


#: OCPP 2.0.1 part 2 A00.FR.318 (ECDHE-ECDSA) and A00.FR.319 (RSA), with the ECDHE-RSA
#: suites an RSA-keyed station may prefer.
TLS12_SUITES = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
]


def _tls12_only(pki: Path, suite: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(pki / "ca.crt"))
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(suite)
    return context


async def _heartbeat_over(secured: Secured, context: ssl.SSLContext) -> tuple[str, str]:
    """(TLS version, cipher) of a profile-2 connection that was answered a Heartbeat."""
    async with connect(
        secured.wss("CP-TLS"),
        subprotocols=OCPP16,
        ssl=context,
        additional_headers=_basic("CP-TLS", PASSWORD),
    ) as ws:
        await ws.send('[2, "1", "Heartbeat", {}]')
        assert (await ws.recv()).startswith("[3,")
        name, version, _bits = ws.transport.get_extra_info("cipher")
        return version, name


@pytest.mark.parametrize("suite", TLS12_SUITES)
async def test_a_station_offering_only_one_required_tls12_suite_connects(
    secured: Secured, pki: Path, suite: str
) -> None:
    assert await _heartbeat_over(secured, _tls12_only(pki, suite)) == ("TLSv1.2", suite)


async def test_a_tls13_station_connects(secured: Secured, pki: Path) -> None:
    context = _client_tls(pki)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    version, _ = await _heartbeat_over(secured, context)
    assert version == "TLSv1.3"


async def test_rsa_and_ecdsa_suites_get_the_matching_server_certificate(
    secured: Secured, pki: Path
) -> None:
    """One listener holds both chains: an ECDSA-only and an RSA-only station both verify
    the certificate they are given."""
    for suite in ("ECDHE-ECDSA-AES256-GCM-SHA384", "AES256-GCM-SHA384"):
        async with connect(
            secured.wss("CP-TLS"),
            subprotocols=OCPP16,
            ssl=_tls12_only(pki, suite),
            additional_headers=_basic("CP-TLS", PASSWORD),
        ) as ws:
            der = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        expected = ("server-ecdsa" if "ECDSA" in suite else "server") + ".crt"
        assert der == ssl.PEM_cert_to_DER_cert((pki / expected).read_text())


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["TLSv1.0", "TLSv1.1"]
)
async def test_tls_below_1_2_is_refused(
    secured: Secured, pki: Path, version: ssl.TLSVersion
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(pki / "ca.crt"))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    # The server's protocol_version alert reaches the client as an SSL error or a reset.
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        async with connect(
            secured.wss("CP-TLS"),
            subprotocols=OCPP16,
            ssl=context,
            additional_headers=_basic("CP-TLS", PASSWORD),
        ):
            pass
