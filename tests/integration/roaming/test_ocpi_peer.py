"""The independent eMSP fixture itself: it records what it is sent and its models judge it.

Without this check a peer that accepted anything would make every roaming e2e assertion
about "parses with the peer's own models" meaningless.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures.ocpi_peer.peer import OcpiPeer, refused, running_peer

#: The first run builds the peer's virtual environment from PyPI (minutes on a loaded machine).
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def peer(request: pytest.FixtureRequest) -> Iterator[OcpiPeer]:
    with running_peer(request.config.cache.mkdir("ocpi_peer")) as running:
        yield running


def _put(peer: OcpiPeer, path: str, body: Any, token: str) -> int:
    request = urllib.request.Request(
        peer.base + path,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Token " + base64.b64encode(token.encode()).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def a_session(**overrides: Any) -> dict[str, Any]:
    session = {
        "country_code": "DE",
        "party_id": "CGR",
        "id": "S-1",
        "start_date_time": "2026-12-07T10:00:00Z",
        "kwh": 1.5,
        "cdr_token": {
            "uid": "TOK1",
            "type": "RFID",
            "contract_id": "NL-EMS-C1",
            "country_code": "NL",
            "party_id": "EMS",
        },
        "auth_method": "WHITELIST",
        "location_id": "SITE-1",
        "evse_uid": "CP-1*1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": "2026-12-07T10:00:05Z",
    }
    return {**session, **overrides}


async def test_a_valid_session_is_stored_and_recorded(peer: OcpiPeer) -> None:
    status = _put(peer, "/ocpi/emsp/2.2.1/sessions/DE/CGR/S-1", a_session(), peer.token)
    assert status == 200
    stored = await peer.stored()
    assert stored["sessions"]["S-1"]["kwh"] == 1.5
    assert refused(await peer.received()) == []


async def test_a_session_its_models_refuse_is_recorded_as_refused(peer: OcpiPeer) -> None:
    bad = a_session(id="S-2", status="CHARGING_HARD")
    assert _put(peer, "/ocpi/emsp/2.2.1/sessions/DE/CGR/S-2", bad, peer.token) == 422
    assert [r["body"]["id"] for r in refused(await peer.received())] == ["S-2"]
    assert "S-2" not in (await peer.stored())["sessions"]


async def test_a_wrong_token_is_refused(peer: OcpiPeer) -> None:
    status = _put(peer, "/ocpi/emsp/2.2.1/sessions/DE/CGR/S-3", a_session(id="S-3"), "nope")
    assert status in (401, 403)
    assert "S-3" not in (await peer.stored())["sessions"]
