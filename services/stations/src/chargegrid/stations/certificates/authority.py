"""A CA key and certificate that sign station certificates (X.509, `cryptography`).

`load_or_create` gives `make run` a CSMS CA of its own on first start (key file 0600 under
var/); production points the settings at an operator-provided certificate and key instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"


class AuthorityError(ValueError):
    """The CA files are missing, unreadable or do not belong together."""


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: CaKey

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def issue(
        self,
        csr: x509.CertificateSigningRequest,
        now: datetime,
        validity: timedelta,
        *,
        client_auth: bool = True,
    ) -> x509.Certificate:
        """A leaf certificate for the CSR's subject and key; at most as long as the CA lives."""
        not_after = min(now + validity, self.certificate.not_valid_after_utc)
        usage = [ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else []
        usage.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        return builder.sign(self.key, hashes.SHA256())


def create_authority(common_name: str, now: datetime, validity: timedelta) -> CertificateAuthority:
    """A self-signed root CA on a fresh P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ChargeGrid"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(certificate, key)


def load_authority(cert_path: Path, key_path: Path) -> CertificateAuthority:
    """An operator's CA: the key must be the certificate's and the certificate a CA."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise AuthorityError(f"cannot read the CA from {cert_path} / {key_path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise AuthorityError(f"{key_path}: only EC and RSA CA keys are supported")
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise AuthorityError(f"{key_path} is not the key of {cert_path}")
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.value.ca:
        raise AuthorityError(f"{cert_path} is not a CA certificate (basicConstraints CA:TRUE)")
    return CertificateAuthority(certificate, key)


def load_or_create(directory: Path, now: datetime, validity: timedelta) -> CertificateAuthority:
    """The CA kept in `directory`, created there (key 0600) when there is none yet."""
    cert_path, key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE
    if cert_path.exists() or key_path.exists():
        return load_authority(cert_path, key_path)
    directory.mkdir(parents=True, exist_ok=True)
    authority = create_authority("ChargeGrid CSMS CA", now, validity)
    key_pem = authority.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key_pem)
    cert_path.write_text(authority.certificate_pem)
    return authority
