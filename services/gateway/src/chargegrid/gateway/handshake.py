"""Who is connecting: security profiles 1-3 checked during the WebSocket handshake.

- profile 0: no credentials (allowed only when Basic auth is not required and the station
  is not known to need more);
- profile 1: HTTP Basic over ws; profile 2: HTTP Basic over wss;
- profile 3: a TLS client certificate, signed by the configured CA, whose subject CN is the
  station id in the URL.
A connection below the station's required profile (`SecurityRequirements`: a password means
at least 1) is refused with 401 before any OCPP frame is read, and counted. While the
stations service cannot answer, a station it said needs credentials stays refused (the last
answer is kept); one it never answered for is left to `require_basic` alone, and counted in
`chargegrid_gateway_handshakes_unchecked_total`. The password is never logged or kept.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from chargegrid.gateway import metrics
from chargegrid.gateway.credentials import CredentialVerifier, basic_credentials
from chargegrid.gateway.requirements import NoRequirements, SecurityRequirements
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


def refuse(
    status: HTTPStatus,
    text: str,
    reason: str,
    *,
    challenge: bool = False,
    retry_after_s: int | None = None,
) -> Response:
    metrics.HANDSHAKE_REFUSED.labels(reason).inc()
    body = f"{text}\n".encode()
    headers = Headers(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    if challenge:
        headers["WWW-Authenticate"] = 'Basic realm="ChargeGrid", charset="UTF-8"'
    if retry_after_s is not None:
        headers["Retry-After"] = str(retry_after_s)
    return Response(status.value, status.phrase, headers, body)


def certificate_common_name(peercert: dict[str, Any] | None) -> str | None:
    for rdn in (peercert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


@dataclass(frozen=True)
class Authenticator:
    require_basic: bool
    verifier: CredentialVerifier | None
    requirements: SecurityRequirements = field(default_factory=NoRequirements)

    async def profile(
        self, connection: ServerConnection, request: Request, station_id: str
    ) -> int | Response:
        """The security profile the handshake satisfies, or the refusal to send."""
        presented = await self._presented(connection, request, station_id)
        if isinstance(presented, Response) or presented == 3:
            return presented
        required = await self.requirements.required_profile(station_id)
        if required is None:
            # Never answered for this station: only `require_basic` decides (a station known
            # to need credentials is remembered, so it stays refused while the service is away).
            metrics.HANDSHAKE_UNCHECKED.inc()
            log.warning("station's required profile unknown", station_id=station_id)
            required = 0
        if presented < required:
            log.warning(
                "connection below the station's security profile",
                station_id=station_id,
                presented=presented,
                required=required,
            )
            return refuse(
                HTTPStatus.UNAUTHORIZED,
                f"security profile {required} required",
                "profile" if presented else "missing",
                challenge=required < 3,
            )
        return presented

    async def _presented(
        self, connection: ServerConnection, request: Request, station_id: str
    ) -> int | Response:
        transport = connection.transport
        tls = transport.get_extra_info("ssl_object") is not None
        peercert = transport.get_extra_info("peercert") if tls else None
        if peercert:
            name = certificate_common_name(peercert)
            if name != station_id:
                log.warning(
                    "client certificate names another station",
                    station_id=station_id,
                    certificate_cn=name,
                )
                return refuse(
                    HTTPStatus.UNAUTHORIZED,
                    "client certificate does not name this station",
                    "certificate",
                )
            return 3
        credentials = basic_credentials(request.headers.get("Authorization"))
        if credentials is None:
            if self.require_basic:
                return refuse(
                    HTTPStatus.UNAUTHORIZED, "credentials required", "missing", challenge=True
                )
            return 0
        user, password = credentials
        verified = (
            user == station_id
            and self.verifier is not None
            and await self.verifier.verify(station_id, password)
        )
        if not verified:
            log.warning("station authentication failed", station_id=station_id)
            return refuse(
                HTTPStatus.UNAUTHORIZED, "invalid credentials", "credentials", challenge=True
            )
        return 2 if tls else 1


#: OCPP 2.0.1 part 2 A00.FR.318-319 (and the 1.6 security whitepaper): the CSMS serves
#: ECDHE-ECDSA and plain RSA AES-GCM suites for TLS 1.2; ECDHE-RSA is added for RSA-keyed
#: stations that offer forward secrecy. TLS 1.3 suites are OpenSSL's (AES-GCM, ChaCha20).
TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-GCM-SHA384",
    ]
)


def server_tls_context(
    chains: list[tuple[str, str]], client_ca: str | None, require_client_certificate: bool = False
) -> ssl.SSLContext:
    """TLS 1.2+ for wss with every (certificate, key) chain given, so an RSA and an ECDSA
    certificate are served at once (OpenSSL picks the one the station's suites allow).

    With a client CA, certificates are requested and verified (profile 3) but not required,
    so profile-2 stations (Basic over TLS) share the listener and a profile-3 station without
    one is refused at the HTTP upgrade; `require_client_certificate` fails such a TLS
    handshake instead (a listener for profile-3 stations only)."""
    if not chains:
        raise ValueError("a TLS listener needs at least one certificate and key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_ciphers(TLS12_CIPHERS)
    for cert, key in chains:
        context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
    elif require_client_certificate:
        raise ValueError("requiring client certificates needs a client CA")
    return context
