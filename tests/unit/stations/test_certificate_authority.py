"""The CSMS CA and its CSR rules, without a database (A00 certificate properties, A02/A03)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chargegrid.stations.certificates.authority import (
    AuthorityError,
    create_authority,
    load_authority,
    load_or_create,
)
from chargegrid.stations.certificates.csr import CsrRefused, check_csr

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


def csr_pem(
    common_name: str, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None
) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    request = (
        x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def test_first_start_creates_the_ca_with_a_private_key_and_reuses_it(tmp_path: Path) -> None:
    created = load_or_create(tmp_path / "ca", NOW, 10 * YEAR)
    again = load_or_create(tmp_path / "ca", NOW + YEAR, 10 * YEAR)

    assert stat.S_IMODE((tmp_path / "ca" / "ca.key").stat().st_mode) == 0o600
    assert again.certificate == created.certificate
    constraints = created.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca


def test_operator_ca_must_be_a_ca_with_its_own_key(tmp_path: Path) -> None:
    authority = create_authority("Operator CA", NOW, YEAR)
    other = create_authority("Other CA", NOW, YEAR)
    cert, key, wrong_key = tmp_path / "ca.pem", tmp_path / "ca.key", tmp_path / "other.key"
    cert.write_text(authority.certificate_pem)
    for path, ca in ((key, authority), (wrong_key, other)):
        path.write_bytes(
            ca.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    leaf = authority.issue(x509.load_pem_x509_csr(csr_pem("CS-1").encode()), NOW, YEAR)
    leaf_file = tmp_path / "leaf.pem"
    leaf_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))

    assert load_authority(cert, key).certificate == authority.certificate
    with pytest.raises(AuthorityError, match="is not the key"):
        load_authority(cert, wrong_key)
    with pytest.raises(AuthorityError, match="cannot read"):
        load_authority(tmp_path / "missing.pem", key)
    with pytest.raises(AuthorityError):
        load_authority(leaf_file, key)


def test_issued_certificate_names_the_station_and_never_outlives_the_ca() -> None:
    authority = create_authority("Short CA", NOW, timedelta(days=30))
    checked = check_csr(csr_pem("CS-1"), "CS-1")

    leaf = authority.issue(checked.request, NOW, YEAR)

    leaf.verify_directly_issued_by(authority.certificate)
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"
    assert leaf.not_valid_after_utc == authority.certificate.not_valid_after_utc
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage


@pytest.mark.parametrize(
    ("pem", "fragment"),
    [
        ("", "1 to 5500"),
        ("x" * 5501, "1 to 5500"),
        (
            "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n",
            "not a PEM",
        ),
    ],
)
def test_malformed_csr_is_refused(pem: str, fragment: str) -> None:
    with pytest.raises(CsrRefused, match=fragment) as refused:
        check_csr(pem, "CS-1")
    assert refused.value.reason == "InvalidCSR"


def test_csr_naming_another_station_or_with_a_weak_key_is_refused() -> None:
    with pytest.raises(CsrRefused, match="not the station 'CS-1'"):
        check_csr(csr_pem("CS-2"), "CS-1")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(CsrRefused, match="2048 bits"):
        check_csr(csr_pem("CS-1", weak), "CS-1")
