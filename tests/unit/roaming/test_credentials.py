"""The credentials handshake over HTTP, both directions, and its refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from chargegrid.roaming import registration
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.partners import PENDING, REGISTERED, UNREGISTERED
from tests.unit.roaming.fakes import (
    OUR_URL,
    PARTNER_URL,
    FakePartner,
    RoutingTransport,
    auth,
    build_context,
    close_context,
)


@dataclass
class World:
    ctx: RoamingContext
    partner: FakePartner
    http: httpx.AsyncClient
    token_a: str


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport)
    partner = FakePartner()
    http = httpx.AsyncClient(transport=transport, base_url=OUR_URL)
    partner.client = http
    transport.route("emsp.test", partner.app())
    _, token_a = await ctx.partners.add("emsp1", name="Fake", allowed_modules=["credentials"])
    yield World(ctx, partner, http, token_a)
    await http.aclose()
    await close_context(ctx)


async def register(w: World) -> str:
    answer = await w.http.post(
        "/ocpi/2.2.1/credentials",
        json=w.partner.credentials(w.partner.token_b),
        headers=auth(w.token_a),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status_code"] == 1000
    return str(body["data"]["token"])


async def test_a_partner_registers_with_token_a_and_gets_token_c(world: World) -> None:
    token_c = await register(world)
    stored = await world.ctx.partners.get("emsp1")
    assert stored.status == REGISTERED
    assert (stored.country_code, stored.party_id) == ("NL", "EMS")
    assert stored.their_token == world.partner.token_b
    assert stored.endpoint("locations") == f"{PARTNER_URL}/ocpi/emsp/locations"
    assert (await world.http.get("/ocpi/versions", headers=auth(token_c))).status_code == 200
    refused = await world.http.get("/ocpi/versions", headers=auth(world.token_a))
    assert refused.status_code == 401
    assert refused.json()["status_code"] == 2001


async def test_a_raw_token_is_accepted_as_2_2_1_allows(world: World) -> None:
    answer = await world.http.get(
        "/ocpi/versions", headers={"Authorization": f"Token {world.token_a}"}
    )
    assert answer.status_code == 200
    assert answer.json()["data"] == [{"version": "2.2.1", "url": f"{OUR_URL}/ocpi/2.2.1"}]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Token bm9wZQ=="}, {"Authorization": "Bearer x"}, {"Authorization": ""}],
)
async def test_missing_or_wrong_tokens_are_401_with_2001(
    world: World, headers: dict[str, str]
) -> None:
    answer = await world.http.get("/ocpi/2.2.1", headers=headers)
    assert answer.status_code == 401
    body = answer.json()
    assert body["status_code"] == 2001
    assert body["timestamp"].endswith("Z")


async def test_version_details_list_our_modules(world: World) -> None:
    answer = await world.http.get("/ocpi/2.2.1", headers=auth(world.token_a))
    endpoints = answer.json()["data"]["endpoints"]
    roles = {(e["identifier"], e["role"]) for e in endpoints}
    assert {("credentials", "SENDER"), ("credentials", "RECEIVER")} <= roles
    unknown = await world.http.get("/ocpi/2.1.1", headers=auth(world.token_a))
    assert unknown.status_code == 404
    assert unknown.json()["status_code"] == 3002


async def test_malformed_credentials_change_nothing(world: World) -> None:
    bad_json = await world.http.post(
        "/ocpi/2.2.1/credentials",
        content=b"{not json",
        headers={**auth(world.token_a), "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["status_code"] == 2001
    bad_role = world.partner.credentials("t")
    bad_role["roles"][0]["role"] = "PIRATE"
    answer = await world.http.post(
        "/ocpi/2.2.1/credentials", json=bad_role, headers=auth(world.token_a)
    )
    assert answer.status_code == 400
    assert answer.json()["status_code"] == 2001
    stored = await world.ctx.partners.get("emsp1")
    assert stored.status == PENDING
    still = await world.http.get("/ocpi/versions", headers=auth(world.token_a))
    assert still.status_code == 200


async def test_unreachable_partner_versions_is_3001_and_keeps_token_a(world: World) -> None:
    body = world.partner.credentials(world.partner.token_b)
    body["url"] = "http://nowhere.test/ocpi/versions"
    answer = await world.http.post(
        "/ocpi/2.2.1/credentials", json=body, headers=auth(world.token_a)
    )
    assert answer.json()["status_code"] == 3001
    assert (await world.ctx.partners.get("emsp1")).status == PENDING


async def test_second_post_is_405_put_rotates_delete_unregisters(world: World) -> None:
    token_c = await register(world)
    again = await world.http.post(
        "/ocpi/2.2.1/credentials",
        json=world.partner.credentials("x"),
        headers=auth(token_c),
    )
    assert again.status_code == 405
    world.partner.token_b = "partner-token-b2"
    rotated = await world.http.put(
        "/ocpi/2.2.1/credentials",
        json=world.partner.credentials("partner-token-b2"),
        headers=auth(token_c),
    )
    assert rotated.status_code == 200, rotated.text
    new_c = rotated.json()["data"]["token"]
    assert new_c != token_c
    assert (await world.http.get("/ocpi/versions", headers=auth(token_c))).status_code == 401
    assert (await world.ctx.partners.get("emsp1")).their_token == "partner-token-b2"
    mine = await world.http.get("/ocpi/2.2.1/credentials", headers=auth(new_c))
    assert mine.json()["data"]["token"] == new_c
    assert mine.json()["data"]["roles"][0]["role"] == "CPO"
    gone = await world.http.delete("/ocpi/2.2.1/credentials", headers=auth(new_c))
    assert gone.status_code == 200
    assert (await world.ctx.partners.get("emsp1")).status == UNREGISTERED
    assert (await world.http.get("/ocpi/versions", headers=auth(new_c))).status_code == 401


async def test_put_before_registering_is_405(world: World) -> None:
    answer = await world.http.put(
        "/ocpi/2.2.1/credentials",
        json=world.partner.credentials("x"),
        headers=auth(world.token_a),
    )
    assert answer.status_code == 405
    assert (await world.ctx.partners.get("emsp1")).status == PENDING


async def test_ids_are_echoed_and_hub_routing_reversed(world: World) -> None:
    answer = await world.http.get(
        "/ocpi/versions",
        headers={
            **auth(world.token_a),
            "X-Request-ID": "req-1",
            "X-Correlation-ID": "corr-1",
            "OCPI-from-country-code": "NL",
            "OCPI-from-party-id": "EMS",
            "OCPI-to-country-code": "DE",
            "OCPI-to-party-id": "CGR",
        },
    )
    h = answer.headers
    assert (h["X-Request-ID"], h["X-Correlation-ID"]) == ("req-1", "corr-1")
    assert (h["OCPI-to-country-code"], h["OCPI-to-party-id"]) == ("NL", "EMS")
    assert (h["OCPI-from-country-code"], h["OCPI-from-party-id"]) == ("DE", "CGR")
    plain = await world.http.get("/ocpi/versions", headers=auth(world.token_a))
    assert plain.headers["X-Request-ID"]


async def test_we_register_with_a_partner_using_its_token_a(world: World) -> None:
    partner, _ = await world.ctx.partners.add("emsp2", allowed_modules=["credentials"])
    done = await registration.register_with(
        world.ctx, partner, f"{PARTNER_URL}/ocpi/versions", world.partner.token_a
    )
    assert done.status == REGISTERED
    assert done.their_token == world.partner.issued_c
    assert (done.country_code, done.party_id) == ("NL", "EMS")


async def test_a_failed_registration_with_a_partner_keeps_nothing(world: World) -> None:
    partner, _ = await world.ctx.partners.add("emsp3")
    with pytest.raises(registration.RegistrationFailed):
        await registration.register_with(
            world.ctx, partner, f"{PARTNER_URL}/ocpi/versions", "wrong-token-a"
        )
    stored = await world.ctx.partners.get("emsp3")
    assert stored.status == PENDING
    assert stored.their_token is None


async def test_unregistering_from_a_partner_tells_it_and_reports_a_refusal(
    world: World,
) -> None:
    await register(world)
    partner = await world.ctx.partners.get("emsp1")
    assert await registration.unregister_from(world.ctx, partner) is None
    assert ("DELETE", "credentials", None) in world.partner.received
    world.partner.token_b = "changed"  # the partner no longer accepts our token
    failed = await registration.unregister_from(world.ctx, partner)
    assert failed is not None
    assert "HTTP 401" in failed


async def test_we_rotate_our_credentials_and_a_refused_rotation_changes_nothing(
    world: World,
) -> None:
    token_c = await register(world)
    world.partner.failing = True
    with pytest.raises(registration.RegistrationFailed):
        await registration.rotate_with(world.ctx, await world.ctx.partners.get("emsp1"))
    kept = await world.ctx.partners.get("emsp1")
    assert kept.their_token == world.partner.token_b
    assert (await world.http.get("/ocpi/versions", headers=auth(token_c))).status_code == 200
    world.partner.failing = False
    rotated = await registration.rotate_with(world.ctx, kept)
    assert (rotated.status, rotated.their_token) == (REGISTERED, world.partner.rotated_c)
    [(_, _, sent)] = [r for r in world.partner.received if r[:2] == ("PUT", "credentials")]
    assert sent["url"] == f"{OUR_URL}/ocpi/versions"
    assert (await world.http.get("/ocpi/versions", headers=auth(sent["token"]))).status_code == 200
    old = await world.http.get("/ocpi/versions", headers=auth(token_c))
    assert (old.status_code, old.json()["status_code"]) == (401, 2001)


async def test_a_partner_that_is_not_registered_cannot_be_rotated(world: World) -> None:
    with pytest.raises(registration.RegistrationFailed, match="PENDING"):
        await registration.rotate_with(world.ctx, await world.ctx.partners.get("emsp1"))
