"""Block M on the CSMS side with real HTTP peers: GetCertificateStatus as a real OCSP request
to the station's responder, cached until nextUpdate (M06), and Get15118EVCertificate
forwarded to the contract-certificate provider (M01/M02). No database is involved."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from chargegrid.stations.certificates.authority import create_authority
from chargegrid.stations.certificates.contracts import (
    ContractFailed,
    ContractProvider,
    ContractRequest,
)
from chargegrid.stations.certificates.ocsp import CertificateId, OcspFailed, OcspForwarder
from tests.integration.stations.builders import T0, FakeClock
from tests.integration.stations.iso15118_servers import (
    ContractProviderPeer,
    OcspResponder,
    serving,
)

AUTHORITY = create_authority("Test V2G Sub-CA", T0 - timedelta(days=1), timedelta(days=365))


def a_contract_certificate() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DEABCC123456789")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return AUTHORITY.issue(csr, T0, timedelta(days=30), client_auth=False)


def hash_data(certificate: x509.Certificate, url: str) -> CertificateId:
    """What a station sends (ocspRequestData), computed as OCSP does."""
    built = ocsp.OCSPRequestBuilder().add_certificate(
        certificate, AUTHORITY.certificate, hashes.SHA256()
    )
    request = built.build()
    return CertificateId(
        "SHA256",
        request.issuer_name_hash.hex(),
        request.issuer_key_hash.hex(),
        format(certificate.serial_number, "x"),
        url,
    )


async def test_M06_ocsp_request_is_forwarded_and_answer_cached_until_next_update() -> None:
    clock = FakeClock()
    certificate = a_contract_certificate()
    responder = OcspResponder(AUTHORITY, T0)
    responder.known[certificate.serial_number] = certificate
    forwarder = OcspForwarder(clock, timeout_s=5)
    with serving(responder) as url:
        first = await forwarder.status(hash_data(certificate, url))
        clock.advance(30 * 60)
        cached = await forwarder.status(hash_data(certificate, url))
        clock.advance(31 * 60)  # past nextUpdate (T0 + 1 h)
        fresh = await forwarder.status(hash_data(certificate, url))

    response = ocsp.load_der_ocsp_response(base64.b64decode(first))
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == certificate.serial_number
    assert cached == first
    assert (
        ocsp.load_der_ocsp_response(base64.b64decode(fresh)).serial_number == response.serial_number
    )
    assert len(responder.requests) == 2
    assert responder.requests[0].serial_number == certificate.serial_number
    assert responder.requests[0].issuer_key_hash == bytes.fromhex(
        hash_data(certificate, url).issuer_key_hash
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"hash_algorithm": "MD5"}, "InvalidHashData"),
        ({"issuer_name_hash": "zz"}, "InvalidHashData"),
        ({"issuer_key_hash": "abcd"}, "InvalidHashData"),
        ({"responder_url": "file:///etc/passwd"}, "InvalidURL"),
    ],
)
async def test_M06_malformed_ocsp_request_data_fails_and_nothing_is_sent(
    change: dict[str, str], reason: str
) -> None:
    certificate = a_contract_certificate()
    responder = OcspResponder(AUTHORITY, T0)
    forwarder = OcspForwarder(FakeClock(), timeout_s=5)
    with serving(responder) as url:
        fields = hash_data(certificate, url).__dict__ | change
        with pytest.raises(OcspFailed) as failed:
            await forwarder.status(CertificateId(**fields))
    assert failed.value.reason == reason
    assert responder.requests == []


async def test_M06_unknown_certificate_and_unreachable_responder_fail() -> None:
    certificate = a_contract_certificate()
    responder = OcspResponder(AUTHORITY, T0)  # knows no certificate: UNAUTHORIZED
    forwarder = OcspForwarder(FakeClock(), timeout_s=2)
    with serving(responder) as url, pytest.raises(OcspFailed) as refused:
        await forwarder.status(hash_data(certificate, url))
    with pytest.raises(OcspFailed) as unreachable:
        await forwarder.status(hash_data(certificate, url))  # server gone
    assert refused.value.reason == "ResponderError"
    assert unreachable.value.reason == "ResponderUnreachable"


async def test_M01_M02_ev_certificate_request_is_forwarded_to_the_provider() -> None:
    peer = ContractProviderPeer()
    with serving(peer) as url:
        provider = ContractProvider(url, timeout_s=5)
        exi = await provider.forward(
            ContractRequest("CS-1", "urn:iso:15118:2:2013:MsgDef", "Install", "QUJDREVGR0g=")
        )
        peer.fail = True
        with pytest.raises(ContractFailed) as failed:
            await provider.forward(
                ContractRequest("CS-1", "urn:iso:15118:2:2013:MsgDef", "Update", "QUJD")
            )
        with pytest.raises(ContractFailed) as invalid:
            await provider.forward(ContractRequest("CS-1", "urn", "Delete", "QUJD"))

    assert exi.startswith("RVhJLXJlc3BvbnNl")
    assert peer.received[0] == {
        "stationId": "CS-1",
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "QUJDREVGR0g=",
    }
    assert failed.value.reason == "ProviderFailed"
    assert invalid.value.reason == "InvalidAction"
    assert len(peer.received) == 2  # the invalid action never reached the provider
    with pytest.raises(ValueError, match="http"):
        ContractProvider("file:///tmp/x", timeout_s=1)
