"""The roaming service (in-process, real broker and database) against the independent eMSP.

The peer (extrawest-ocpi, its own venv and process) registers with our token A, pushes a
token, receives the Session pushes and exactly one CDR of its driver's session, is asked in
real time about a token it never pushed (through our gRPC RoamingAuthorization, as the
authorization service asks), and its own pydantic models parse every payload it received.
The session and billing facts are handed to the flows' batch handler directly: the Kafka
path is the consumer's, tested with the rest of the stack.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chargegrid.api.roaming.v1 import authorization_pb2 as rpb
from chargegrid.api.roaming.v1.authorization_pb2_grpc import RoamingAuthorizationStub
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.roaming import registration
from chargegrid.roaming.app import RoamingApp
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.settings import RoamingSettings
from chargegrid.roaming.token_pull import pull_tokens
from tests.fixtures.ocpi_peer.peer import OcpiPeer, refused, running_peer
from tests.unit.roaming.test_flows import a_cdr, a_session, cdr_event, event

#: The first run builds the peer's virtual environment from PyPI (minutes on a loaded machine).
pytestmark = pytest.mark.timeout(900)
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}
NOW = datetime.now(UTC).replace(microsecond=0)


def a_token(uid: str, whitelist: str = "ALLOWED") -> dict[str, Any]:
    return {
        "country_code": "NL", "party_id": "EMS", "uid": uid, "type": "RFID",
        "contract_id": f"NL-EMS-{uid}", "issuer": "Independent eMSP", "valid": True,
        "whitelist": whitelist, "last_updated": NOW.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip


@pytest.fixture(scope="module")
def peer(request: pytest.FixtureRequest) -> Iterator[OcpiPeer]:
    with running_peer(request.config.cache.mkdir("ocpi_peer")) as running:
        yield running


@pytest.fixture
async def roaming(
    peer: OcpiPeer, database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> AsyncIterator[tuple[RoamingApp, str]]:
    await peer.reset()  # each test (on each database) with a peer that saw nothing yet
    service = TokenRegistry(tmp_path / "api-tokens.json").add("authorization", Role.SERVICE)
    settings = RoamingSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
        grpc_host="127.0.0.1", grpc_port=0, http_host="127.0.0.1", http_port=0,
        api_tokens_file=tmp_path / "api-tokens.json", outbox_poll_interval_s=0.2,
        outbox_base_backoff_s=0.2, consumer_group=f"roaming-{time.time_ns()}",
        flows_consumer_group=f"roaming-flows-{time.time_ns()}",
    )  # fmt: skip
    app = RoamingApp(settings, consumer_tuning=FAST_GROUP)
    await app.start()
    app.settings.public_url = f"http://127.0.0.1:{app.http_port}"
    yield app, service
    await app.stop()


def by_id(objects: dict[str, Any], object_id: str) -> Any:
    """The peer's CiString ids change case; OCPI ids compare case-insensitively."""
    return next((v for k, v in objects.items() if k.upper() == object_id.upper()), None)


async def eventually(check: Any, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


async def test_the_independent_emsp_gets_sessions_one_cdr_and_real_time_answers(
    peer: OcpiPeer, roaming: tuple[RoamingApp, str]
) -> None:
    app, service_token = roaming
    _, token_a = await app.context.partners.add("peer", name="eMSP")  # every module we have
    registered = await peer.register(app.context.versions_url, token_a)
    assert registered["body"]["status_code"] == 1000, registered
    assert registered["errors"] == []

    pushed = await peer.call("PUT", "tokens", "/NL/EMS/TOK1", json=a_token("TOK1"))
    assert (pushed["http_status"], pushed["body"]["status_code"]) == (200, 1000), pushed
    bad = await peer.call("PUT", "tokens", "/NL/EMS/TOK2", json=a_token("TOK2", "SOMETIMES"))
    assert (bad["http_status"], bad["body"]["status_code"]) == (400, 2001)

    closed = a_session(spb.SESSION_STATUS_COMPLETED, at=3600, energy_wh=12500)
    await app.flows.batch([event("session.opened", a_session(), "p-e1")])
    await app.flows.batch([event("session.updated", a_session(at=120, energy_wh=900), "p-e2")])
    await app.flows.batch([event("session.closed", closed, "p-e3")])
    await app.flows.batch([cdr_event(a_cdr(), "p-c1")])
    await app.flows.batch([cdr_event(a_cdr(), "p-c2")])  # billing redelivered: still one CDR

    async def all_arrived() -> bool:
        stored = await peer.stored()
        session = by_id(stored["sessions"], "CS1:tx-1")
        return bool(session and session["status"] == "COMPLETED" and stored["cdrs"])

    arrived = await eventually(all_arrived)
    assert arrived, (
        "\n".join(
            f"{r['method']} {r['path']} {r['status']} {r['body']}" for r in await peer.received()
        )
        + f"\nstored: {await peer.stored()}"
    )
    stored = await peer.stored()
    received = await peer.received()
    assert refused(received) == []
    methods = [(r["method"], r["path"].split("/")[4]) for r in received if "/emsp/" in r["path"]]
    assert methods == [("PUT", "sessions"), ("PATCH", "sessions"), ("PUT", "sessions"),
                       ("POST", "cdrs")]  # fmt: skip
    assert [key.upper() for key in stored["cdrs"]] == ["CDR-1"]
    cdr = by_id(stored["cdrs"], "CDR-1")
    assert (cdr["total_cost"], cdr["currency"]) == ({"excl_vat": 4.2, "incl_vat": 5.0}, "EUR")
    assert by_id(stored["sessions"], "CS1:tx-1")["kwh"] == 12.5

    await peer.hold_token(a_token("RT1", "NEVER"), allowed="ALLOWED")
    await peer.hold_token(a_token("RT2", "NEVER"), allowed="BLOCKED")
    channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=service_token, max_attempts=1)
    try:
        stub = RoamingAuthorizationStub(channel)
        allowed = await stub.Authorize(rpb.RoamingAuthorizeRequest(id_token="RT1"), timeout=20)
        blocked = await stub.Authorize(rpb.RoamingAuthorizeRequest(id_token="RT2"), timeout=20)
        nobody = await stub.Authorize(rpb.RoamingAuthorizeRequest(id_token="NOPE"), timeout=20)
    finally:
        await channel.close()
    assert (allowed.known, allowed.status, allowed.source) == (True, "Accepted", "ocpi:NL-EMS")
    assert allowed.authorization_reference.upper() == "REF-RT1"  # the peer upper-cases CiStrings
    assert (blocked.status, blocked.reason) == ("Blocked", "partner_blocked")
    assert nobody.known is False
    authorize_calls = [r for r in await peer.received() if r["path"].endswith("/authorize")]
    assert len(authorize_calls) == 3
    assert sorted(r["status"] for r in authorize_calls) == [200, 200, 404]  # NOPE: unknown
    assert refused(await peer.received()) == []


async def test_we_rotate_credentials_with_the_independent_emsp_and_pull_its_tokens(
    peer: OcpiPeer, roaming: tuple[RoamingApp, str]
) -> None:
    app, _ = roaming
    _, token_a = await app.context.partners.add("peer", name="eMSP")
    assert (await peer.register(app.context.versions_url, token_a))["errors"] == []
    seen = len(await peer.received())
    partner = await registration.rotate_with(app.context, await app.context.partners.get("peer"))
    assert partner.status == "REGISTERED"
    put = [r for r in (await peer.received())[seen:] if r["method"] == "PUT"]
    assert [(r["path"].rstrip("/").rsplit("/", 1)[-1], r["status"]) for r in put] == [
        ("credentials", 200)
    ]
    new_token = put[0]["body"]["token"]
    with_new = await peer.call("GET", "credentials", token=new_token, model="credentials")
    assert (with_new["http_status"], with_new["errors"]) == (200, []), with_new
    with_old = await peer.call("GET", "credentials")  # the token C it registered with
    assert (with_old["http_status"], with_old["body"]["status_code"]) == (401, 2001)

    # Billing's CDR of a token nobody told us of yet: kept, not dropped.
    await app.flows.batch([cdr_event(a_cdr("CDR-9", uid="pull1"), "u-c9")])
    await peer.hold_token(a_token("pull1"))
    pulled = await pull_tokens(app.context)
    assert [(p, error) for p, _, error in pulled] == [("peer", "")]
    found = await tokens_of(app.context).find("PULL1")  # the peer upper-cases CiStrings
    assert [(f.partner_id, f.token.uid.upper()) for f in found] == [("peer", "PULL1")]

    async def cdr_arrived() -> Any:
        return by_id((await peer.stored())["cdrs"], "CDR-9")

    cdr = await eventually(cdr_arrived)  # the pull woke the kept CDR's round
    assert cdr, await peer.received()
    assert cdr["cdr_token"]["uid"].upper() == "PULL1"
    assert refused(await peer.received()) == []
