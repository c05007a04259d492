"""tokens (receiver): partners PUT/PATCH their tokens, we GET them, pull their lists, and
answer the authorization service from them (whitelist respected) or by asking in real time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.ocpi.tokens import digest
from chargegrid.roaming.partners import REGISTERED
from chargegrid.roaming.realtime import RealtimeAuthorization
from chargegrid.roaming.token_pull import pull_tokens, run_token_pulls
from tests.unit.roaming.fakes import (
    OUR_URL,
    RoutingTransport,
    auth,
    build_context,
    close_context,
    ok,
)

TOKENS_URL = "http://emsp.test/ocpi/emsp/2.2.1/tokens"
PARTNER_TOKEN_C = "our-token-for-emsp1"
THEIR_TOKEN = "token-we-present"


def a_token(uid: str = "TOK1", **overrides: Any) -> dict[str, Any]:
    token = {
        "country_code": "NL",
        "party_id": "EMS",
        "uid": uid,
        "type": "RFID",
        "contract_id": f"NL-EMS-{uid}",
        "issuer": "Fake eMSP",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-12-07T10:00:00Z",
    }
    return {**token, **overrides}


@dataclass
class TokenSender:
    """The eMSP's side of the tokens module: its list (paged) and real-time authorization."""

    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    allowed: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    down: bool = False

    def app(self) -> FastAPI:
        app = FastAPI()
        sender = self

        @app.get("/ocpi/emsp/2.2.1/tokens/")
        async def listing(request: Request) -> JSONResponse:
            offset = int(request.query_params["offset"])
            limit = int(request.query_params["limit"])
            items = list(sender.tokens.values())[offset : offset + limit]
            return JSONResponse(ok(items))

        @app.post("/ocpi/emsp/2.2.1/tokens/{uid}/authorize")
        async def authorize(uid: str) -> JSONResponse:
            sender.asked.append(uid)
            if sender.down:
                return JSONResponse({"status_code": 3000}, 503)
            if uid not in sender.tokens:
                return JSONResponse({"status_code": 2004, "status_message": "unknown"}, 404)
            info = {
                "allowed": sender.allowed.get(uid, "ALLOWED"),
                "token": sender.tokens[uid],
                "authorization_reference": f"ref-{uid}",
            }
            return JSONResponse(ok(info))

        return app


@dataclass
class World:
    ctx: RoamingContext
    http: httpx.AsyncClient
    sender: TokenSender
    transport: RoutingTransport
    realtime: RealtimeAuthorization


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport)
    sender = TokenSender()
    transport.route("emsp.test", sender.app())
    await ctx.partners.add("emsp1", name="Fake", allowed_modules=["tokens"])
    await ctx.partners.update(
        "emsp1",
        status=REGISTERED,
        country_code="NL",
        party_id="EMS",
        token_hash=digest(PARTNER_TOKEN_C),
        their_token=THEIR_TOKEN,
        endpoints=[{"identifier": "tokens", "role": "SENDER", "url": TOKENS_URL}],
    )
    http = httpx.AsyncClient(transport=transport, base_url=OUR_URL)
    realtime = RealtimeAuthorization(tokens_of(ctx), ctx.partners, ctx.client)
    yield World(ctx, http, sender, transport, realtime)
    await http.aclose()
    await close_context(ctx)


async def put(w: World, token: dict[str, Any], path: str | None = None) -> httpx.Response:
    where = path or f"/ocpi/2.2.1/tokens/NL/EMS/{token['uid']}"
    return await w.http.put(where, json=token, headers=auth(PARTNER_TOKEN_C))


async def test_a_partner_puts_a_token_and_gets_it_back(world: World) -> None:
    assert (await put(world, a_token())).json()["status_code"] == 1000
    answer = await world.http.get("/ocpi/2.2.1/tokens/NL/EMS/TOK1", headers=auth(PARTNER_TOKEN_C))
    assert answer.json()["data"]["contract_id"] == "NL-EMS-TOK1"


async def test_token_ids_match_in_any_case_as_ocpi_cistrings(world: World) -> None:
    put_lower = await put(world, a_token("abc123"), "/ocpi/2.2.1/tokens/nl/ems/ABC123")
    assert put_lower.json()["status_code"] == 1000, put_lower.text
    url = "/ocpi/2.2.1/tokens/NL/EMS/Abc123"
    got = await world.http.get(url, headers=auth(PARTNER_TOKEN_C))
    assert got.json()["data"]["uid"] == "abc123", got.text  # kept as the partner sent it
    patch = {"valid": False, "last_updated": "2026-12-07T11:00:00Z"}
    patched = await world.http.patch(
        "/ocpi/2.2.1/tokens/NL/EMS/ABC123", json=patch, headers=auth(PARTNER_TOKEN_C)
    )
    assert patched.json()["status_code"] == 1000, patched.text
    assert (await put(world, a_token("ABC123"))).json()["status_code"] == 1000  # replaces it
    found = await tokens_of(world.ctx).find("aBc123")  # as a station may present it
    assert [(f.token.uid, f.token.valid) for f in found] == [("ABC123", True)]


async def test_a_patch_merges_fields_and_needs_last_updated(world: World) -> None:
    await put(world, a_token())
    url = "/ocpi/2.2.1/tokens/NL/EMS/TOK1"
    missing = await world.http.patch(url, json={"valid": False}, headers=auth(PARTNER_TOKEN_C))
    assert (missing.status_code, missing.json()["status_code"]) == (400, 2001)
    patch = {"valid": False, "last_updated": "2026-12-07T11:00:00Z"}
    assert (
        await world.http.patch(url, json=patch, headers=auth(PARTNER_TOKEN_C))
    ).status_code == 200
    stored = await tokens_of(world.ctx).get("NL", "EMS", "TOK1", "RFID")
    assert stored.token.valid is False


async def test_bad_tokens_are_refused_and_change_nothing(world: World) -> None:
    await put(world, a_token())
    bad_enum = await put(world, a_token(whitelist="SOMETIMES"))
    other_party = await put(world, a_token(party_id="XYZ"), "/ocpi/2.2.1/tokens/NL/XYZ/TOK1")
    mismatch = await put(world, a_token(uid="TOK2"), "/ocpi/2.2.1/tokens/NL/EMS/TOK1")
    malformed = await world.http.put(
        "/ocpi/2.2.1/tokens/NL/EMS/TOK1",
        content=b"{not json",
        headers={**auth(PARTNER_TOKEN_C), "Content-Type": "application/json"},
    )
    bad_patch = await world.http.patch(
        "/ocpi/2.2.1/tokens/NL/EMS/TOK1",
        json={"whitelist": "NOPE", "last_updated": "2026-12-07T11:00:00Z"},
        headers=auth(PARTNER_TOKEN_C),
    )
    unknown = await world.http.patch(
        "/ocpi/2.2.1/tokens/NL/EMS/NOPE",
        json={"valid": False, "last_updated": "2026-12-07T11:00:00Z"},
        headers=auth(PARTNER_TOKEN_C),
    )
    no_token = await world.http.put("/ocpi/2.2.1/tokens/NL/EMS/TOK1", json=a_token(valid=False))
    for answer in (bad_enum, other_party, mismatch, malformed, bad_patch):
        assert (answer.status_code, answer.json()["status_code"]) == (400, 2001), answer.text
    assert (unknown.status_code, unknown.json()["status_code"]) == (404, 2004)
    assert no_token.status_code == 401
    stored = await tokens_of(world.ctx).get("NL", "EMS", "TOK1", "RFID")
    assert (stored.token.valid, stored.token.whitelist.value) == (True, "ALLOWED")
    assert await tokens_of(world.ctx).count("emsp1") == 1


async def test_we_pull_the_partners_tokens_page_by_page(world: World) -> None:
    for n in range(5):
        world.sender.tokens[f"T{n}"] = a_token(f"T{n}")
    world.sender.tokens["BAD"] = a_token("BAD", whitelist="MAYBE")
    partner = await world.ctx.partners.get("emsp1")
    assert await tokens_of(world.ctx).pull(partner, world.ctx.client, limit=2) == 5
    assert await tokens_of(world.ctx).count("emsp1") == 5


@pytest.mark.parametrize(
    ("whitelist", "partner_down", "status", "reason", "asked"),
    [
        ("ALWAYS", False, "Accepted", "whitelist_always", False),
        ("ALLOWED", True, "Accepted", "whitelist_allowed", False),
        ("ALLOWED_OFFLINE", False, "Blocked", "partner_blocked", True),
        ("ALLOWED_OFFLINE", True, "Accepted", "partner_offline_allowed", True),
        ("NEVER", False, "Blocked", "partner_blocked", True),
        ("NEVER", True, "Invalid", "partner_unreachable", True),
    ],
)
async def test_the_whitelist_decides_whether_the_partner_is_asked(
    world: World, whitelist: str, partner_down: bool, status: str, reason: str, asked: bool
) -> None:
    token = a_token(whitelist=whitelist)
    await put(world, token)
    world.sender.tokens["TOK1"] = token
    world.sender.allowed["TOK1"] = "BLOCKED"
    world.sender.down = partner_down
    answer = await world.realtime.authorize("TOK1", "ISO14443")
    assert (answer.known, answer.status, answer.reason) == (True, status, reason)
    assert answer.source == "ocpi:NL-EMS"
    assert (world.sender.asked == ["TOK1"]) is asked


async def test_an_invalid_token_is_refused_without_asking(world: World) -> None:
    await put(world, a_token(valid=False, whitelist="NEVER"))
    answer = await world.realtime.authorize("TOK1")
    assert (answer.status, answer.reason) == ("Invalid", "token_not_valid")
    assert world.sender.asked == []


async def test_an_unknown_token_is_asked_of_the_partners_and_kept(world: World) -> None:
    world.sender.tokens["RT1"] = a_token("RT1", whitelist="NEVER")
    answer = await world.realtime.authorize("RT1")
    assert (answer.known, answer.status, answer.source) == (True, "Accepted", "ocpi:NL-EMS")
    assert answer.authorization_reference == "ref-RT1"
    assert [s.partner_id for s in await tokens_of(world.ctx).find("RT1")] == ["emsp1"]


async def test_a_token_no_partner_knows_is_unknown(world: World) -> None:
    answer = await world.realtime.authorize("NOBODY")
    assert answer.known is False
    world.transport.down.add("emsp.test")
    assert (await world.realtime.authorize("NOBODY")).known is False


async def test_the_pull_schedule_fetches_every_partners_list_and_reports_failures(
    world: World,
) -> None:
    world.sender.tokens["T1"] = a_token("T1")
    assert await pull_tokens(world.ctx) == [("emsp1", 1, "")]
    world.transport.down.add("emsp.test")
    [(partner, stored, error)] = await pull_tokens(world.ctx, "emsp1")
    assert (partner, stored, "connection refused" in error) == ("emsp1", 0, True)
    world.transport.down.discard("emsp.test")
    world.sender.tokens["T2"] = a_token("T2")
    schedule = asyncio.create_task(run_token_pulls(world.ctx, 0.05))
    try:
        async with asyncio.timeout(10):
            while await tokens_of(world.ctx).count("emsp1") < 2:
                await asyncio.sleep(0.05)
    finally:
        schedule.cancel()
    assert [t.token.uid for t in await tokens_of(world.ctx).find("t2")] == ["T2"]
