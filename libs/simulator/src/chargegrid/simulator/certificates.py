"""The station side of OCPP certificates: its own key and certificate, and its trust store.

A CSR is made on a fresh P-256 key that never leaves the station (A02/A03); the chain the
CSMS sends back is adopted only if its leaf carries that key, names this station and is
valid now. Root certificates are installed, listed and deleted by their hash data
(issuer name hash, issuer key hash and serial, as OCSP computes them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}


@dataclass(frozen=True)
class HashData:
    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def wire(self) -> dict[str, str]:
        return {
            "hash_algorithm": self.hash_algorithm,
            "issuer_name_hash": self.issuer_name_hash,
            "issuer_key_hash": self.issuer_key_hash,
            "serial_number": self.serial_number,
        }


def hash_data(
    certificate: x509.Certificate, issuer: x509.Certificate, algorithm: str = "SHA256"
) -> HashData:
    request = (
        ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, _HASHES[algorithm]()).build()
    )
    return HashData(
        algorithm,
        request.issuer_name_hash.hex(),
        request.issuer_key_hash.hex(),
        format(certificate.serial_number, "x"),
    )


def _pem_certificates(text: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(text.encode())


def _valid_now(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


class CertificateStore:
    def __init__(self, station_id: str, organization: str, clock: Callable[[], datetime]) -> None:
        self.station_id = station_id
        self.organization = organization
        self.clock = clock
        #: Root certificates by 2.x InstallCertificateUseEnumType.
        self.roots: dict[str, list[x509.Certificate]] = {}
        #: The station's own chains (leaf first) by ChargingStationCertificate / V2GCertificate.
        self.chains: dict[str, list[x509.Certificate]] = {}
        self._keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._pending: dict[str, ec.EllipticCurvePrivateKey] = {}

    # -- own certificate ----------------------------------------------------------------

    def new_csr(self, kind: str = "ChargingStationCertificate", common_name: str = "") -> str:
        """A PEM CSR on a new key, remembered until a chain for it arrives."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = [x509.NameAttribute(NameOID.COMMON_NAME, common_name or self.station_id)]
        if self.organization:
            subject.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization))
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name(subject))
            .sign(key, hashes.SHA256())
        )
        self._pending[kind] = key
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    def adopt(self, chain_pem: str, kind: str = "ChargingStationCertificate") -> str | None:
        """Why the chain is refused, or None when it is now the station's certificate."""
        try:
            chain = _pem_certificates(chain_pem)
        except ValueError:
            return "the chain is not PEM certificates"
        if not chain:
            return "the chain is empty"
        leaf, key = chain[0], self._pending.get(kind)
        if key is None or leaf.public_key() != key.public_key():
            return "the certificate is not for the key of the last CSR"
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != self.station_id:
            return "the certificate does not name this station"
        if not _valid_now(leaf, self.clock()):
            return "the certificate is not valid now"
        self.chains[kind] = chain
        self._keys[kind] = self._pending.pop(kind)
        return None

    def key_pem(self, kind: str = "ChargingStationCertificate") -> bytes:
        return self._keys[kind].private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def chain_pem(self, kind: str = "ChargingStationCertificate") -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chains[kind])

    # -- trust store ----------------------------------------------------------------------

    def install(self, kind: str, pem: str) -> str:
        """Accepted, or Rejected for a certificate that is malformed, expired or not a CA."""
        try:
            certificates = _pem_certificates(pem)
        except ValueError:
            return "Rejected"
        if len(certificates) != 1 or not _valid_now(certificates[0], self.clock()):
            return "Rejected"
        certificate = certificates[0]
        try:
            is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            return "Rejected"
        installed = self.roots.setdefault(kind, [])
        if certificate not in installed:
            installed.append(certificate)
        return "Accepted"

    def installed(self, kinds: list[str] | None = None) -> list[tuple[str, HashData]]:
        return [
            (kind, hash_data(certificate, certificate))
            for kind, certificates in self.roots.items()
            if not kinds or kind in kinds
            for certificate in certificates
        ]

    def delete(self, wanted: HashData) -> str:
        """Accepted, NotFound; Failed for the station's own certificate (M04.FR.06)."""
        for certificates in self.roots.values():
            for certificate in certificates:
                if hash_data(certificate, certificate, wanted.hash_algorithm) == wanted:
                    certificates.remove(certificate)
                    return "Accepted"
        for chain in self.chains.values():
            issuer = chain[1] if len(chain) > 1 else chain[0]
            if hash_data(chain[0], issuer, wanted.hash_algorithm) == wanted:
                return "Failed"
        return "NotFound"
