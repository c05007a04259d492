"""OCPP 2.0.1 certificates through the whole `make run` stack (blocks A and M03-M05).

The stations service's CSMS CA signs a simulated station's CSR, the chain reaches the
station as CertificateSigned, and the station then connects with it over mutual TLS
(security profile 3) to a gateway whose wss listener trusts that CA. The operator manages
the station's trust store from the CLI. One stack for the module.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import socket
import ssl
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from websockets.exceptions import InvalidStatus

from chargegrid.api.gateway.v1 import station_control_pb2 as control_pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as control_grpc
from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import StationConfig, create_station
from chargegrid.simulator.station import Station
from chargegrid.stations.certificates.authority import CertificateAuthority, load_or_create
from tests.e2e.conftest import Stack
from tests.integration.stations.iso15118_servers import (
    ContractProviderPeer,
    OcspResponder,
    serving,
)

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_certificate(authority: CertificateAuthority, directory: Path) -> tuple[Path, Path]:
    """The gateway's wss certificate (127.0.0.1), issued by the same CA for brevity."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(authority.key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class TlsStack(Stack):
    tls_port: int
    ca_file: Path
    authority: CertificateAuthority
    responder: OcspResponder
    responder_url: str
    provider: ContractProviderPeer

    @property
    def wss_url(self) -> str:
        return f"wss://127.0.0.1:{self.tls_port}/ocpp"


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TlsStack]:
    root = tmp_path_factory.mktemp("certificates")
    # The CA the stations service would create on first start, made first so that the
    # gateway's wss listener can trust it from its own start.
    authority = load_or_create(root / "var" / "ca", datetime.now(UTC), timedelta(days=3650))
    cert_file, key_file = _server_certificate(authority, root)
    tls_port = _free_port()
    provider, responder = ContractProviderPeer(), OcspResponder(authority, datetime.now(UTC))
    with serving(provider) as provider_url, serving(responder) as responder_url:
        env = {
            "CHARGEGRID_STATIONS_CONTRACT_CERTIFICATE_URL": provider_url,
            "CHARGEGRID_GATEWAY_TLS_PORT": str(tls_port),
            "CHARGEGRID_GATEWAY_TLS_CERT_FILE": str(cert_file),
            "CHARGEGRID_GATEWAY_TLS_KEY_FILE": str(key_file),
            "CHARGEGRID_GATEWAY_TLS_CLIENT_CA_FILE": str(root / "var" / "ca" / "ca.pem"),
            "CHARGEGRID_STATIONS_CERTIFICATE_DELIVERY_DELAY_S": "0.3",
            # The handshake's cached security answer (ADR 007) expires quickly here, so a
            # raised profile is enforced within the test.
            "CHARGEGRID_GATEWAY_SECURITY_CACHE_TTL_S": "1",
        }
        running = TlsStack(root, env)
        running.tls_port = tls_port
        running.ca_file = root / "var" / "ca" / "ca.pem"
        running.authority = authority
        running.provider, running.responder = provider, responder
        running.responder_url = responder_url
        try:
            await asyncio.to_thread(running.wait_for_output, "admin API token")
            yield running
        finally:
            running.stop()


async def cli(stack: Stack, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The CLI in a thread: the simulated stations share this event loop and must answer."""
    return await asyncio.to_thread(stack.cli, *args, check=check)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.3)


_CHANNELS: dict[tuple[str, str], grpc.aio.Channel] = {}


def _channel(stack: Stack, service: str) -> grpc.aio.Channel:
    """One channel per service and stack (a channel nobody holds is closed)."""
    key = (stack.address(service), service)
    if key not in _CHANNELS:
        _CHANNELS[key] = create_channel(stack.address(service), token=stack.admin_token)
    return _CHANNELS[key]


def stations_stub(stack: Stack) -> Any:
    return stations_grpc.StationsStub(_channel(stack, "stations"))


def control_stub(stack: Stack) -> Any:
    return control_grpc.StationControlStub(_channel(stack, "gateway"))


async def issued_for(stack: Stack, station_id: str) -> list[stations_pb.IssuedCertificate]:
    reply = await stations_stub(stack).ListIssuedCertificates(
        stations_pb.ListIssuedCertificatesRequest(station_id=station_id)
    )
    return list(reply.certificates)


async def started(stack: Stack, station_id: str, **kw: Any) -> Station:
    station = create_station(
        "2.0.1", StationConfig(station_id=station_id), kw.pop("url", stack.ocpp_url), **kw
    )
    await station.start()
    await station.wait_registered(60)
    return station


@pytest.fixture(scope="module")
async def certified(stack: TlsStack) -> AsyncIterator[Station]:
    """A 2.0.1 station that asked for (A03) and adopted a certificate of the CSMS CA."""

    # The stack prints the token before every service listens: wait for the registry.
    async def stations_listen() -> bool:
        try:
            await issued_for(stack, "PROBE")
        except grpc.aio.AioRpcError:
            return False
        return True

    await eventually(stations_listen, 90)
    station = await started(stack, unique("PKI"))
    try:
        assert await station.request_certificate("ChargingStationCertificate") == "Accepted"

        async def adopted() -> bool:
            return "ChargingStationCertificate" in station.certificates.chains

        await eventually(adopted)
        yield station
    finally:
        await station.stop()


async def test_A03_station_csr_is_signed_by_the_csms_ca_and_delivered(
    stack: TlsStack, certified: Station
) -> None:
    chain = certified.certificates.chains["ChargingStationCertificate"]
    ca = x509.load_pem_x509_certificate(stack.ca_file.read_bytes())
    chain[0].verify_directly_issued_by(ca)
    assert chain[1] == ca

    async def delivered() -> bool:
        rows = await issued_for(stack, certified.station_id)
        return [r.delivery for r in rows] == ["delivered"]

    await eventually(delivered)
    done = await cli(stack, "stations", "certificates", "issued", certified.station_id, "--json")
    [row] = json.loads(done.stdout)
    assert row["serial"] == format(chain[0].serial_number, "x")


async def test_A02_renewal_trigger_brings_a_new_csr_and_certificate(
    stack: TlsStack, certified: Station
) -> None:
    before = certified.certificates.chains["ChargingStationCertificate"][0]

    await cli(stack, "stations", "certificates", "renew", certified.station_id)

    async def renewed() -> bool:
        return certified.certificates.chains["ChargingStationCertificate"][0] != before

    await eventually(renewed)
    rows = await issued_for(stack, certified.station_id)
    assert [r.superseded for r in rows] == [False, True]


async def test_A02_csr_naming_another_station_is_rejected_and_nothing_issued(
    stack: TlsStack, certified: Station
) -> None:
    intruder = unique("EVE")
    victim = certified.station_id
    before = await issued_for(stack, victim)
    csr = certified.certificates.new_csr("ChargingStationCertificate", common_name=victim)
    async with websockets.connect(f"{stack.ocpp_url}/{intruder}", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
        boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
        await ws.send(json.dumps([2, "b1", "BootNotification", boot]))
        json.loads(await ws.recv())
        await ws.send(json.dumps([2, "s1", "SignCertificate", {"csr": csr}]))
        answer = json.loads(await ws.recv())
        while answer[0] == 2:  # CSMS calls (e.g. a report request) meanwhile
            await ws.send(json.dumps([4, answer[1], "NotImplemented", "", {}]))
            answer = json.loads(await ws.recv())

    assert answer[2]["status"] == "Rejected"
    assert answer[2]["statusInfo"]["reasonCode"] == "InvalidCSR"
    assert await issued_for(stack, intruder) == []
    assert len(await issued_for(stack, victim)) == len(before)


async def raw_calls(
    stack: Stack, station_id: str, calls: list[tuple[str, dict[str, Any]]]
) -> list[Any]:
    """A bare 2.0.1 client: boots, then each CALL's answer (CSMS CALLs meanwhile refused)."""
    answers = []
    async with websockets.connect(
        f"{stack.ocpp_url}/{station_id}", subprotocols=["ocpp2.0.1"]
    ) as ws:  # type: ignore[list-item]
        boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
        for n, (action, payload) in enumerate([("BootNotification", boot), *calls]):
            await ws.send(json.dumps([2, f"m{n}", action, payload]))
            answer = json.loads(await ws.recv())
            while answer[0] == 2:
                await ws.send(json.dumps([4, answer[1], "NotImplemented", "", {}]))
                answer = json.loads(await ws.recv())
            answers.append(answer)
    return answers[1:]


async def test_M01_M02_M06_ev_certificates_and_ocsp_through_the_gateway(stack: TlsStack) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DEABCC123456789")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    contract = stack.authority.issue(csr, datetime.now(UTC), timedelta(days=30), client_auth=False)
    stack.responder.known[contract.serial_number] = contract
    ids = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(contract, stack.authority.certificate, hashes.SHA256())
        .build()
    )
    ocsp_data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": ids.issuer_name_hash.hex(),
        "issuerKeyHash": ids.issuer_key_hash.hex(),
        "serialNumber": format(contract.serial_number, "x"),
        "responderURL": stack.responder_url,
    }
    ev = {
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "QUJDREVGR0g=",
    }

    installed, status, again, bad = await raw_calls(
        stack,
        unique("PNC"),
        [
            ("Get15118EVCertificate", ev),
            ("GetCertificateStatus", {"ocspRequestData": ocsp_data}),
            ("GetCertificateStatus", {"ocspRequestData": ocsp_data}),
            ("GetCertificateStatus", {"ocspRequestData": ocsp_data | {"issuerKeyHash": "zz"}}),
        ],
    )

    assert installed[2]["status"] == "Accepted"
    assert installed[2]["exiResponse"].startswith("RVhJLXJlc3BvbnNl")
    assert stack.provider.received[-1]["exiRequest"] == "QUJDREVGR0g="
    assert status[2]["status"] == "Accepted"
    response = ocsp.load_der_ocsp_response(base64.b64decode(status[2]["ocspResult"]))
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert again[2]["ocspResult"] == status[2]["ocspResult"]  # cached until nextUpdate
    assert len(stack.responder.requests) == 1
    assert bad[2]["status"] == "Failed"
    assert bad[2]["statusInfo"]["reasonCode"] == "InvalidHashData"


def _client_context(stack: TlsStack, station: Station, directory: Path) -> ssl.SSLContext:
    chain_file, key_file = (
        directory / f"{station.station_id}.pem",
        directory / f"{station.station_id}.key",
    )
    chain_file.write_bytes(station.certificates.chain_pem())
    key_file.write_bytes(station.certificates.key_pem())
    context = ssl.create_default_context(cafile=str(stack.ca_file))
    context.load_cert_chain(chain_file, key_file)
    return context


async def test_security_profile_3_with_a_certificate_of_the_built_in_ca(
    stack: TlsStack, certified: Station, tmp_path: Path
) -> None:
    context = _client_context(stack, certified, tmp_path)
    station_id = certified.station_id
    await certified.stop()
    again = await started(stack, station_id, url=stack.wss_url, ssl=context)
    try:
        connection = await control_stub(stack).GetConnection(
            control_pb.GetConnectionRequest(station_id=station_id)
        )

        async def profile_3() -> bool:
            reply = await control_stub(stack).GetConnection(
                control_pb.GetConnectionRequest(station_id=station_id)
            )
            return bool(reply.security_profile == 3)

        await eventually(profile_3)
        assert connection.station_id == station_id
    finally:
        await again.stop()

    # The same certificate presented for another station's URL is refused at the handshake.
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"{stack.wss_url}/{unique('OTHER')}",
            subprotocols=["ocpp2.0.1"],
            ssl=context,  # type: ignore[list-item]
        ):
            pass
    assert refused.value.response.status_code == 401


async def test_M03_M04_M05_trust_store_from_the_cli_with_bad_input_changing_nothing(
    stack: TlsStack, tmp_path: Path
) -> None:
    station = await started(stack, unique("TRUST"))

    async def certificates(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return await cli(stack, "stations", "certificates", *args, check=check)

    async def installed() -> dict[str, Any]:
        listed = await certificates("list", station.station_id, "--json")
        return dict(json.loads(listed.stdout))

    try:
        sid = station.station_id
        assert (await installed())["status"] == "NotFound"

        # M05: an expired root and a malformed one are Rejected; nothing is installed.
        expired = await certificates("install", sid, str(_expired_ca(tmp_path)), check=False)
        assert expired.returncode == 1
        assert "Rejected" in expired.stdout
        garbage = tmp_path / "garbage.pem"
        garbage.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        malformed = await certificates("install", sid, str(garbage), check=False)
        assert malformed.returncode == 1
        assert (await installed())["status"] == "NotFound"

        await certificates("install", sid, "--csms-ca")
        [entry] = (await installed())["certificates"]
        assert entry["certificate_type"] == "CSMSRootCertificate"
        ids = entry["certificate"]
        ca = x509.load_pem_x509_certificate(stack.ca_file.read_bytes())
        assert ids["serial_number"] == format(ca.serial_number, "x")

        # M04: an unknown hash is NotFound and deletes nothing; the right one deletes it.
        hashes_args = (
            "--issuer-name-hash",
            ids["issuer_name_hash"],
            "--issuer-key-hash",
            ids["issuer_key_hash"],
        )
        unknown = await certificates("delete", sid, "--serial", "abcdef", *hashes_args, check=False)
        assert unknown.returncode == 1
        assert "NotFound" in unknown.stdout
        assert len((await installed())["certificates"]) == 1
        await certificates("delete", sid, "--serial", ids["serial_number"], *hashes_args)
        assert (await installed())["status"] == "NotFound"
    finally:
        await station.stop()


def _expired_ca(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Expired Root")])
    long_ago = datetime.now(UTC) - timedelta(days=400)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(long_ago)
        .not_valid_after(long_ago + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / "expired.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


async def test_1_6_security_whitepaper_sign_certificate_and_trust_store(stack: TlsStack) -> None:
    station = create_station("1.6", StationConfig(station_id=unique("SEC16")), stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(60)
        sid = station.station_id
        assert await station.request_certificate() == "Accepted"

        async def adopted() -> bool:
            return "ChargingStationCertificate" in station.certificates.chains

        await eventually(adopted)
        [row] = await issued_for(stack, sid)
        assert row.certificate_type == "ChargingStationCertificate"

        await cli(stack, "stations", "certificates", "install", sid, "--csms-ca")
        listed = await cli(
            stack,
            "stations",
            "certificates",
            "list",
            sid,
            "--type",
            "CSMSRootCertificate",
            "--json",
        )
        [entry] = json.loads(listed.stdout)["certificates"]
        assert entry["certificate_type"] == "CSMSRootCertificate"
        # 1.6 lists one kind at a time: no --type is refused before anything is sent.
        every = await cli(stack, "stations", "certificates", "list", sid, "--json", check=False)
        assert every.returncode != 0
        assert "one certificate type" in every.stdout + every.stderr
    finally:
        await station.stop()


async def test_A05_upgrade_to_profile_3_is_required_only_after_the_station_reconnects_with_it(
    stack: TlsStack,
) -> None:
    station = await started(stack, unique("UPG"))
    try:
        sid = station.station_id
        assert await station.request_certificate() == "Accepted"

        async def adopted() -> bool:
            return "ChargingStationCertificate" in station.certificates.chains

        await eventually(adopted)

        async def delivered() -> bool:
            return [r.delivery for r in await issued_for(stack, sid)] == ["delivered"]

        await eventually(delivered)
        ca = await stations_stub(stack).GetCertificateAuthority(
            stations_pb.GetCertificateAuthorityRequest()
        )
        installed = await control_stub(stack).InstallCertificate(
            control_pb.InstallCertificateRequest(
                station_id=sid,
                certificate_type="CSMSRootCertificate",
                certificate_pem=ca.certificate_pem,
            )
        )
        assert installed.status == "Accepted"

        done = await cli(
            stack, "stations", "upgrade-security", sid, "--profile", "3", "--url", stack.wss_url
        )
        assert "SetNetworkProfile: Accepted" in done.stdout

        async def required_3() -> bool:
            row = await stations_stub(stack).GetStation(
                stations_pb.GetStationRequest(station_id=sid)
            )
            return bool(row.required_security_profile == 3)

        await eventually(required_3, 60)
        connection = await control_stub(stack).GetConnection(
            control_pb.GetConnectionRequest(station_id=sid)
        )
        assert connection.security_profile == 3
        assert station.url == stack.wss_url
    finally:
        await station.stop()

    # Profile 3 is now required: the old plain connection is refused.
    await asyncio.sleep(1.5)
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"{stack.ocpp_url}/{sid}", subprotocols=["ocpp2.0.1"]):  # type: ignore[list-item]
            pass
    assert refused.value.response.status_code == 401
