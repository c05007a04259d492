"""Test peers of the CSMS for ISO 15118 (block M): an OCSP responder and a contract-certificate
provider, each a real HTTP server on a free port in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from chargegrid.stations.certificates.authority import CertificateAuthority


class OcspResponder:
    """Answers GOOD for the certificates it knows (by serial), signed by their CA; counts hits."""

    def __init__(self, authority: CertificateAuthority, this_update: datetime) -> None:
        self.authority = authority
        self.this_update = this_update
        self.known: dict[int, x509.Certificate] = {}
        self.requests: list[ocsp.OCSPRequest] = []

    def answer(self, body: bytes) -> bytes:
        request = ocsp.load_der_ocsp_request(body)
        self.requests.append(request)
        certificate = self.known.get(request.serial_number)
        if certificate is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=certificate,
                issuer=self.authority.certificate,
                algorithm=hashes.SHA256(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=self.this_update,
                next_update=self.this_update + timedelta(hours=1),
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.authority.certificate)
            .sign(self.authority.key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)


class ContractProviderPeer:
    """Answers Install/Update with a fixed EXI response, or Failed when `fail` is set."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail = False

    def answer(self, body: bytes) -> bytes:
        request = json.loads(body)
        self.received.append(request)
        if self.fail:
            return json.dumps({"status": "Failed"}).encode()
        exi = "RVhJLXJlc3BvbnNlLWZvci0" + request["exiRequest"][:8]
        return json.dumps({"status": "Accepted", "exiResponse": exi}).encode()


@contextmanager
def serving(peer: OcspResponder | ContractProviderPeer) -> Iterator[str]:
    """The peer's URL while it serves POSTs."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = peer.answer(body)
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
