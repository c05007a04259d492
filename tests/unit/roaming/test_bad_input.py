"""Bad input at every OCPI module (the issue's Done-when): missing or wrong tokens, unknown
modules and objects, malformed JSON, invalid enum values, oversized bodies and pages. Each
gets an OCPI error in the envelope and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.locations.store import LocationStore
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.tariffs.store import TariffStore
from tests.unit.roaming.fakes import (
    OUR_URL,
    RoutingTransport,
    a_registered_partner,
    auth,
    build_context,
    close_context,
)
from tests.unit.roaming.test_tokens import a_token

MODULES = ["credentials", "locations", "tariffs", "sessions", "cdrs", "tokens", "commands"]
TOKEN_URL = "/ocpi/2.2.1/tokens/NL/EMS/TOK1"
JSON = {"Content-Type": "application/json"}


@dataclass
class World:
    ctx: RoamingContext
    http: httpx.AsyncClient
    token: str

    async def tokens_stored(self) -> int:
        return await tokens_of(self.ctx).count("emsp1")


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport, max_body_bytes=4096)
    for name, store in (("locations", LocationStore), ("tariffs", TariffStore)):
        ctx.services[name] = store(ctx.sessions, ctx.clock, ctx.outbox, ctx.partners, "DE", "CGR")
    token = await a_registered_partner(ctx, modules=MODULES)
    http = httpx.AsyncClient(transport=transport, base_url=OUR_URL)
    yield World(ctx, http, token)
    await http.aclose()
    await close_context(ctx)


def assert_ocpi(answer: httpx.Response, http_status: int, status_code: int) -> None:
    body = answer.json()
    assert (answer.status_code, body["status_code"]) == (http_status, status_code), answer.text
    assert body["timestamp"].endswith("Z")


async def test_every_module_refuses_a_missing_or_wrong_token(world: World) -> None:
    for module in ["locations", "tariffs", "sessions", "cdrs"]:
        for headers in ({}, auth("not-a-token"), {"Authorization": "Bearer x"}):
            assert_ocpi(await world.http.get(f"/ocpi/2.2.1/{module}", headers=headers), 401, 2001)
    put = await world.http.put(TOKEN_URL, json=a_token(), headers=auth("nope"))
    assert_ocpi(put, 401, 2001)
    command = await world.http.post("/ocpi/2.2.1/commands/STOP_SESSION", json={})
    assert_ocpi(command, 401, 2001)
    assert await world.tokens_stored() == 0


async def test_unknown_modules_and_objects_are_404(world: World) -> None:
    headers = auth(world.token)
    for path in ("/ocpi/2.2.1/hubclientinfo", "/ocpi/2.2.1/locations/NOPE",
                 "/ocpi/2.2.1/tokens/NL/EMS/NOPE", "/ocpi/2.2.1/nothing/at/all"):  # fmt: skip
        answer = await world.http.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.json()["status_code"] in (2003, 2004), path
    preferences = {"profile_type": "FAST"}
    unknown = await world.http.put(
        "/ocpi/2.2.1/sessions/NOPE/charging_preferences", json=preferences, headers=headers
    )
    assert_ocpi(unknown, 404, 2003)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", TOKEN_URL),
        ("PATCH", TOKEN_URL),
        ("POST", "/ocpi/2.2.1/commands/START_SESSION"),
        ("PUT", "/ocpi/2.2.1/sessions/S1/charging_preferences"),
        ("PUT", "/ocpi/2.2.1/credentials"),
    ],
)
async def test_malformed_json_is_2001_everywhere(world: World, method: str, path: str) -> None:
    answer = await world.http.request(
        method, path, content=b'{"uid": "TOK1",', headers={**auth(world.token), **JSON}
    )
    assert_ocpi(answer, 400, 2001)
    assert await world.tokens_stored() == 0


async def test_invalid_enum_values_are_2001_and_change_nothing(world: World) -> None:
    headers = auth(world.token)
    bad_type = await world.http.put(TOKEN_URL, json=a_token(type="BADGE"), headers=headers)
    bad_query = await world.http.get(f"{TOKEN_URL}?type=BADGE", headers=headers)
    start = {"response_url": "http://emsp.test/r/1", "location_id": "SITE1",
             "token": a_token(whitelist="SOMETIMES")}  # fmt: skip
    bad_command = await world.http.post(
        "/ocpi/2.2.1/commands/START_SESSION", json=start, headers=headers
    )
    bad_profile = await world.http.put(
        "/ocpi/2.2.1/sessions/S1/charging_preferences",
        json={"profile_type": "TURBO"},
        headers=headers,
    )
    for answer in (bad_type, bad_query, bad_command, bad_profile):
        assert_ocpi(answer, 400, 2001)
    assert await world.tokens_stored() == 0


async def test_an_oversized_body_is_413_declared_or_not_and_stores_nothing(world: World) -> None:
    huge = a_token(issuer="x" * 64, contract_id="C1")
    huge["padding"] = "y" * 5000  # unknown fields are ignored, so only the size refuses it
    declared = await world.http.put(TOKEN_URL, json=huge, headers=auth(world.token))
    assert_ocpi(declared, 413, 2001)
    assert "X-Request-ID" in declared.headers

    async def chunks() -> AsyncIterator[bytes]:
        text = httpx.Request("PUT", "/", json=huge).content
        for i in range(0, len(text), 1000):
            yield text[i : i + 1000]

    streamed = await world.http.put(
        TOKEN_URL, content=chunks(), headers={**auth(world.token), **JSON}
    )
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert_ocpi(streamed, 413, 2001)
    assert await world.tokens_stored() == 0
    fits = await world.http.put(TOKEN_URL, json=a_token(), headers=auth(world.token))
    assert_ocpi(fits, 200, 1000)


@pytest.mark.parametrize("module", ["locations", "tariffs", "sessions", "cdrs"])
async def test_oversized_pages_are_clamped_and_bad_ones_2001(world: World, module: str) -> None:
    headers = auth(world.token)
    clamped = await world.http.get(f"/ocpi/2.2.1/{module}?limit=1000000", headers=headers)
    assert_ocpi(clamped, 200, 1000)
    assert clamped.headers["X-Limit"] == str(world.ctx.settings.page_max_limit)
    beyond = await world.http.get(f"/ocpi/2.2.1/{module}?offset={10**30}", headers=headers)
    assert_ocpi(beyond, 200, 1000)  # nothing that far: an empty page, not a failed query
    assert (beyond.json()["data"], "Link" in beyond.headers) == ([], False)
    for query in ("limit=-5", "offset=x", "limit=1.5"):
        answer = await world.http.get(f"/ocpi/2.2.1/{module}?{query}", headers=headers)
        assert_ocpi(answer, 400, 2001)
