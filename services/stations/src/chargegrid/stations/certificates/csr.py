"""Is this CSR one the CSMS may sign for this station?

OCPP 2.0.1 (A00.FR.4xx certificate properties, A02/A03) and the 1.6 security whitepaper:
the subject's commonName is the station's identity and organizationName the operator's
(SecurityCtrlr.OrganizationName / CpoName). A CSR naming another station, signed by a key
other than its own, or too weak is refused before anything is issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

MAX_CSR_LENGTH = 5500  # the csr field's maxLength in both versions' schemas
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


class CsrRefused(ValueError):
    """The CSR will not be signed; `reason` is the statusInfo reasonCode the station gets."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class CheckedCsr:
    request: x509.CertificateSigningRequest
    common_name: str
    organization: str


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def check_csr(pem: str, station_id: str, organization: str | None = None) -> CheckedCsr:
    """The parsed CSR if it is well formed, self-signed, strong enough and names the station."""
    if not pem.strip() or len(pem) > MAX_CSR_LENGTH:
        raise CsrRefused("InvalidCSR", f"a CSR is 1 to {MAX_CSR_LENGTH} characters of PEM")
    try:
        request = x509.load_pem_x509_csr(pem.encode())
    except ValueError as exc:
        raise CsrRefused("InvalidCSR", f"not a PEM certificate signing request: {exc}") from exc
    if not request.is_signature_valid:
        raise CsrRefused("InvalidCSR", "the CSR is not signed by its own key")
    key = request.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CsrRefused("InvalidCSR", f"RSA keys need at least {MIN_RSA_BITS} bits")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise CsrRefused("InvalidCSR", f"EC keys need at least {MIN_EC_BITS} bits")
    else:
        raise CsrRefused("InvalidCSR", f"unsupported key type {type(key).__name__}")
    common_name = _attribute(request.subject, NameOID.COMMON_NAME)
    if common_name != station_id:
        raise CsrRefused(
            "InvalidCSR", f"the CSR's commonName {common_name!r} is not the station {station_id!r}"
        )
    organization_name = _attribute(request.subject, NameOID.ORGANIZATION_NAME)
    if organization and organization_name != organization:
        raise CsrRefused(
            "InvalidCSR",
            f"the CSR's organizationName {organization_name!r} is not {organization!r}",
        )
    return CheckedCsr(request, common_name, organization_name)
