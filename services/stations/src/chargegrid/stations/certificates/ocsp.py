"""GetCertificateStatus (M06): the station's hash data as a real OCSP request, forwarded to
the responder it names, the answer cached until the responder's nextUpdate.

A station cannot reach an OCSP responder itself while an EV waits (ISO 15118 contract
certificates), so the CSMS asks for it. The request is built with `cryptography`'s ocsp
module from the issuer hashes and serial (RFC 6960 CertID); the DER response goes back
base64-encoded, untouched, because the EV verifies its signature, not the CSMS.
"""

from __future__ import annotations

import asyncio
import base64
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from chargegrid.stations.clock import Clock

_ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}
MAX_RESPONSE_BYTES = 64 * 1024
#: A response without nextUpdate is still reused briefly, so a burst of EVs asks once.
DEFAULT_TTL = timedelta(minutes=5)

Post = Callable[[str, bytes, float], Awaitable[bytes]]


class OcspFailed(Exception):
    """No usable answer; `reason` is the statusInfo reasonCode the station gets."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class CertificateId:
    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    responder_url: str


def ocsp_request(cert_id: CertificateId) -> bytes:
    """The DER OCSP request for one certificate."""
    if cert_id.hash_algorithm not in _ALGORITHMS:
        raise OcspFailed("InvalidHashData", f"unknown hash algorithm {cert_id.hash_algorithm!r}")
    if not cert_id.responder_url.startswith(("http://", "https://")):
        raise OcspFailed("InvalidURL", "the responder URL must be http(s)")
    try:
        name_hash = bytes.fromhex(cert_id.issuer_name_hash)
        key_hash = bytes.fromhex(cert_id.issuer_key_hash)
        serial = int(cert_id.serial_number, 16)
    except ValueError as exc:
        raise OcspFailed("InvalidHashData", f"hashes and serial are hex: {exc}") from exc
    algorithm = _ALGORITHMS[cert_id.hash_algorithm]()
    if len(name_hash) != algorithm.digest_size or len(key_hash) != algorithm.digest_size:
        raise OcspFailed(
            "InvalidHashData", f"{cert_id.hash_algorithm} hashes are {algorithm.digest_size} bytes"
        )
    request = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        name_hash, key_hash, serial, algorithm
    )
    return request.build().public_bytes(serialization.Encoding.DER)


async def http_post(url: str, body: bytes, timeout_s: float) -> bytes:
    """RFC 6960 A.1: POST application/ocsp-request."""

    def send() -> bytes:
        # The scheme is checked in `ocsp_request` (http or https only).
        request = urllib.request.Request(  # noqa: S310
            url, data=body, headers={"Content-Type": "application/ocsp-request"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return bytes(response.read(MAX_RESPONSE_BYTES + 1))

    return await asyncio.to_thread(send)


class OcspForwarder:
    def __init__(self, clock: Clock, timeout_s: float, post: Post = http_post) -> None:
        self.clock = clock
        self.timeout_s = timeout_s
        self.post = post
        self._cache: dict[tuple[str, bytes], tuple[datetime, str]] = {}
        self.responder_calls = 0

    async def status(self, cert_id: CertificateId) -> str:
        """The base64 DER OCSP response for the certificate (cached until nextUpdate)."""
        body = ocsp_request(cert_id)
        key = (cert_id.responder_url, body)
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        self.responder_calls += 1
        try:
            answer = await self.post(cert_id.responder_url, body, self.timeout_s)
        except (OSError, urllib.error.URLError) as exc:
            raise OcspFailed("ResponderUnreachable", str(exc)) from exc
        if len(answer) > MAX_RESPONSE_BYTES:
            raise OcspFailed("InvalidResponse", "the OCSP response is too large")
        try:
            response = ocsp.load_der_ocsp_response(answer)
        except ValueError as exc:
            raise OcspFailed("InvalidResponse", f"not an OCSP response: {exc}") from exc
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise OcspFailed("ResponderError", response.response_status.name)
        encoded = base64.b64encode(answer).decode()
        until = response.next_update_utc or now + DEFAULT_TTL
        if until > now:
            self._cache[key] = (until, encoded)
        return encoded
