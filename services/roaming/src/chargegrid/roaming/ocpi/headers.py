"""Request ids and hub routing headers (transport_and_format.asciidoc, 'Message routing').

X-Request-ID and X-Correlation-ID are echoed on every answer (new ones made when a client
sent none). Through a hub, OCPI-from-* names the sender and OCPI-to-* the receiver: our
answer swaps them, and our own requests name ourselves as sender and the partner as receiver.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from starlette.requests import Request

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
FROM_COUNTRY = "OCPI-from-country-code"
FROM_PARTY = "OCPI-from-party-id"
TO_COUNTRY = "OCPI-to-country-code"
TO_PARTY = "OCPI-to-party-id"


@dataclass(frozen=True)
class Routing:
    """Who sent a request and to whom it is addressed (empty when not routed)."""

    from_country_code: str = ""
    from_party_id: str = ""
    to_country_code: str = ""
    to_party_id: str = ""

    @classmethod
    def of(cls, request: Request) -> Routing:
        h = request.headers
        return cls(
            h.get(FROM_COUNTRY, "").upper(),
            h.get(FROM_PARTY, "").upper(),
            h.get(TO_COUNTRY, "").upper(),
            h.get(TO_PARTY, "").upper(),
        )


def answer_headers(request: Request, our_country: str, our_party: str) -> dict[str, str]:
    """The headers of our answer to `request`: ids echoed, routing reversed."""
    found = {
        REQUEST_ID: request.headers.get(REQUEST_ID) or str(uuid.uuid4()),
        CORRELATION_ID: request.headers.get(CORRELATION_ID) or str(uuid.uuid4()),
    }
    routing = Routing.of(request)
    if routing.from_country_code and routing.from_party_id:
        found |= {
            TO_COUNTRY: routing.from_country_code,
            TO_PARTY: routing.from_party_id,
            FROM_COUNTRY: our_country,
            FROM_PARTY: our_party,
        }
    return found


def request_headers(
    our_country: str, our_party: str, their_country: str, their_party: str
) -> dict[str, str]:
    """Headers of a request we send to a partner: fresh ids and the routing of both parties."""
    found = {REQUEST_ID: str(uuid.uuid4()), CORRELATION_ID: str(uuid.uuid4())}
    if their_country and their_party:
        found |= {
            FROM_COUNTRY: our_country,
            FROM_PARTY: our_party,
            TO_COUNTRY: their_country,
            TO_PARTY: their_party,
        }
    return found
