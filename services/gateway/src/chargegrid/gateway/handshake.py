"""Who is connecting: security profiles 1-3 checked during the WebSocket handshake.

- profile 0: no credentials (allowed only when Basic auth is not required);
- profile 1: HTTP Basic over ws; profile 2: HTTP Basic over wss;
- profile 3: a TLS client certificate, signed by the configured CA, whose subject CN is the
  station id in the URL.
Failures are refused with 401 before any OCPP frame is read, and counted; the password is
never logged or kept.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from chargegrid.gateway import metrics
from chargegrid.gateway.credentials import CredentialVerifier, basic_credentials
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


def refuse(status: HTTPStatus, text: str, reason: str, *, challenge: bool = False) -> Response:
    metrics.HANDSHAKE_REFUSED.labels(reason).inc()
    body = f"{text}\n".encode()
    headers = Headers(
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    if challenge:
        headers["WWW-Authenticate"] = 'Basic realm="ChargeGrid", charset="UTF-8"'
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

    async def profile(
        self, connection: ServerConnection, request: Request, station_id: str
    ) -> int | Response:
        """The security profile the handshake satisfies, or the refusal to send."""
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


def server_tls_context(cert: str, key: str, client_ca: str | None) -> ssl.SSLContext:
    """TLS 1.2+ for wss; with a client CA, certificates are requested and verified (profile 3)
    but not required, so profile-2 stations (Basic over TLS) share the listener."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    if client_ca:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
