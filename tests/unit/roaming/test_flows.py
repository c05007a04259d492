"""sessions and cdrs (senders): session and billing events become OCPI Sessions and CDRs in the
outbox of the partner whose token was used, at a bounded rate, once each; partners GET theirs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chargegrid.api.billing.v1 import billing_pb2 as bpb
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.api.transaction.v1.events_pb2 import IdToken
from chargegrid.platform.bus.envelope import EnvelopeFactory, set_timestamp
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.flows.pushes import Flows
from chargegrid.roaming.flows.unowned import UnownedCdrs
from chargegrid.roaming.models import OutboxRow
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.ocpi.tokens import digest
from chargegrid.roaming.partners import REGISTERED
from chargegrid.roaming.token_models import OcpiToken
from tests.unit.roaming.fakes import OUR_URL, RoutingTransport, auth, build_context, close_context

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TOKEN_C = "emsp1-token-c"
EVENTS = EnvelopeFactory("session")


def a_token(uid: str = "TOK1", whitelist: str = "ALLOWED") -> OcpiToken:
    return OcpiToken.model_validate(
        {
            "country_code": "NL", "party_id": "EMS", "uid": uid, "type": "RFID",
            "contract_id": f"NL-EMS-{uid}", "issuer": "eMSP", "valid": True,
            "whitelist": whitelist, "last_updated": "2026-12-07T09:00:00Z",
        }
    )  # fmt: skip


def a_session(status: int = spb.SESSION_STATUS_ACTIVE, at: float = 0, **more: Any) -> spb.Session:
    s = spb.Session(
        id="CS1:tx-1", station_id="CS1", site_id="SITE1", evse_id=1, connector_id=1,
        transaction_id="tx-1", id_token=IdToken(id=more.pop("uid", "TOK1"), type="ISO14443"),
        status=status, energy_wh=more.pop("energy_wh", 0.0),
    )  # fmt: skip
    set_timestamp(s.started_at, T0)
    set_timestamp(s.updated_at, T0 + timedelta(seconds=at))
    if status != spb.SESSION_STATUS_ACTIVE:
        set_timestamp(s.ended_at, T0 + timedelta(seconds=at))
    return s


def event(kind: str, session: spb.Session, event_id: str) -> tuple[Any, None]:
    payload = {
        "session.opened": spb.SessionOpened,
        "session.updated": spb.SessionUpdated,
        "session.closed": spb.SessionClosed,
    }[kind](session=session)
    return EVENTS.wrap(kind, session.station_id, payload, event_id=event_id), None


def a_cdr(cdr_id: str = "CDR-1", uid: str = "TOK1") -> bpb.Cdr:
    cdr = bpb.Cdr(
        id=cdr_id, session_id="CS1:tx-1", station_id="CS1", site_id="SITE1",
        id_token=IdToken(id=uid, type="ISO14443"), energy_kwh="12.5", total_time_s=3600,
        charging_time_s=3000, parking_time_s=600, timezone="Europe/Berlin",
        cost=bpb.CostBreakdown(
            currency="EUR", tariff_id="T1", tariff_version=2, total_excl_vat="4.20",
            total_vat="0.80", total_incl_vat="5.00",
            lines=[
                bpb.CostLine(type=bpb.PRICE_COMPONENT_TYPE_ENERGY, quantity="12.5",
                             unit_price="0.30", amount_excl_vat="3.75", vat_percent="19",
                             amount_vat="0.71"),
                bpb.CostLine(type=bpb.PRICE_COMPONENT_TYPE_FLAT, quantity="1",
                             unit_price="0.45", amount_excl_vat="0.45", vat_percent="19",
                             amount_vat="0.09"),
            ],
        ),
    )  # fmt: skip
    set_timestamp(cdr.cost.lines[0].start, T0)
    set_timestamp(cdr.started_at, T0)
    set_timestamp(cdr.ended_at, T0 + timedelta(hours=1))
    set_timestamp(cdr.created_at, T0 + timedelta(hours=1, seconds=2))
    return cdr


def cdr_event(cdr: bpb.Cdr, event_id: str) -> tuple[Any, None]:
    wrapped = EnvelopeFactory("billing").wrap(
        "cdr.created", cdr.station_id, bpb.CdrCreated(cdr=cdr), event_id=event_id
    )
    return wrapped, None


@dataclass
class World:
    ctx: RoamingContext
    flows: Flows
    http: httpx.AsyncClient

    async def pushes(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        async with self.ctx.sessions() as session:
            rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        return [(r.module, r.method, r.path, json.loads(r.body or "null")) for r in rows]


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport)
    await ctx.partners.add("emsp1", name="eMSP", allowed_modules=["sessions", "cdrs", "tokens"])
    base = "http://emsp.test/ocpi/emsp/2.2.1"
    await ctx.partners.update(
        "emsp1", status=REGISTERED, country_code="NL", party_id="EMS",
        token_hash=digest(TOKEN_C), their_token="ours-at-emsp1",
        endpoints=[{"identifier": m, "role": "RECEIVER", "url": f"{base}/{m}"}
                   for m in ("sessions", "cdrs")],
    )  # fmt: skip
    partner = await ctx.partners.get("emsp1")
    await tokens_of(ctx).put(partner, a_token())
    flows = Flows(
        ctx.sessions, ctx.clock, ctx.outbox, ctx.partners, tokens_of(ctx), ("DE", "CGR"),
        patch_interval_s=60,
    )  # fmt: skip
    http = httpx.AsyncClient(transport=transport, base_url=OUR_URL)
    yield World(ctx, flows, http)
    await http.aclose()
    await close_context(ctx)


async def test_a_roaming_session_is_put_patched_at_a_bounded_rate_and_put_at_the_end(
    world: World,
) -> None:
    await world.flows.batch([event("session.opened", a_session(), "e1")])
    await world.flows.batch(
        [
            event("session.updated", a_session(at=30, energy_wh=500), "e2"),  # within 60 s
            event("session.updated", a_session(at=70, energy_wh=1500), "e3"),
            event("session.updated", a_session(at=90, energy_wh=2000), "e4"),  # within 60 s
        ]
    )
    closed = a_session(spb.SESSION_STATUS_COMPLETED, at=200, energy_wh=4000)
    await world.flows.batch([event("session.closed", closed, "e5")])
    await world.flows.batch([event("session.updated", a_session(at=210), "e6")])  # late
    pushes = await world.pushes()
    assert [(m, method) for m, method, _, _ in pushes] == [
        ("sessions", "PUT"), ("sessions", "PATCH"), ("sessions", "PUT"),
    ]  # fmt: skip
    assert {path for _, _, path, _ in pushes} == {"/DE/CGR/CS1:tx-1"}
    opened, patch, end = (body for _, _, _, body in pushes)
    assert opened["cdr_token"] == {
        "country_code": "NL", "party_id": "EMS", "uid": "TOK1", "type": "RFID",
        "contract_id": "NL-EMS-TOK1",
    }  # fmt: skip
    assert (opened["status"], opened["auth_method"], opened["kwh"]) == ("ACTIVE", "WHITELIST", 0)
    assert patch == {"kwh": 1.5, "last_updated": "2026-12-07T10:01:10Z"}
    assert (end["status"], end["kwh"], end["end_date_time"]) == (
        "COMPLETED", 4.0, "2026-12-07T10:03:20Z",
    )  # fmt: skip


async def test_a_redelivered_batch_pushes_nothing_twice(world: World) -> None:
    batch = [event("session.opened", a_session(), "e1"), cdr_event(a_cdr(), "c1")]
    await world.flows.batch(batch)
    await world.flows.batch(batch)
    await world.flows.batch([cdr_event(a_cdr(), "c2")])  # the same CDR in a new event
    assert [(m, method) for m, method, _, _ in await world.pushes()] == [
        ("sessions", "PUT"), ("cdrs", "POST"),
    ]  # fmt: skip


async def test_the_cdr_carries_billings_cost_and_tariff(world: World) -> None:
    await world.flows.batch([event("session.opened", a_session(), "e1")])
    await world.flows.batch([cdr_event(a_cdr(), "c1")])
    _, method, path, cdr = (await world.pushes())[-1]
    assert (method, path) == ("POST", "")
    assert cdr["total_cost"] == {"excl_vat": 4.2, "incl_vat": 5.0}
    assert cdr["total_energy_cost"] == {"excl_vat": 3.75, "incl_vat": 4.46}
    assert cdr["total_fixed_cost"] == {"excl_vat": 0.45, "incl_vat": 0.54}
    assert (cdr["total_energy"], cdr["total_time"], cdr["total_parking_time"]) == (
        12.5, 1.0, round(600 / 3600, 4),
    )  # fmt: skip
    assert cdr["charging_periods"] == [
        {"start_date_time": "2026-12-07T10:00:00Z", "tariff_id": "T1",
         "dimensions": [{"type": "ENERGY", "volume": 12.5}]},
    ]  # fmt: skip
    assert (cdr["session_id"], cdr["cdr_location"]["evse_uid"]) == ("CS1:tx-1", "CS1*1")


async def test_sessions_of_tokens_no_partner_owns_are_not_sent(world: World) -> None:
    await world.flows.batch([event("session.opened", a_session(uid="LOCAL1"), "e1")])
    await world.flows.batch([cdr_event(a_cdr(uid="LOCAL1"), "c1")])
    assert await world.pushes() == []


async def test_partners_get_their_sessions_and_cdrs_paged(world: World) -> None:
    await world.flows.batch([event("session.opened", a_session(), "e1")])
    await world.flows.batch([cdr_event(a_cdr(), "c1")])
    sessions = await world.http.get("/ocpi/2.2.1/sessions?limit=1", headers=auth(TOKEN_C))
    cdrs = await world.http.get("/ocpi/2.2.1/cdrs", headers=auth(TOKEN_C))
    assert [s["id"] for s in sessions.json()["data"]] == ["CS1:tx-1"]
    assert sessions.headers["X-Total-Count"] == "1"
    assert [c["id"] for c in cdrs.json()["data"]] == ["CDR-1"]
    future = await world.http.get(
        "/ocpi/2.2.1/cdrs?date_from=2099-01-01T00:00:00Z", headers=auth(TOKEN_C)
    )
    assert future.json()["data"] == []
    bad = await world.http.get("/ocpi/2.2.1/cdrs?offset=-1", headers=auth(TOKEN_C))
    assert (bad.status_code, bad.json()["status_code"]) == (400, 2001)


async def test_charging_preferences_are_answered(world: World) -> None:
    await world.flows.batch([event("session.opened", a_session(), "e1")])
    url = "/ocpi/2.2.1/sessions/CS1:tx-1/charging_preferences"
    answer = await world.http.put(url, json={"profile_type": "FAST"}, headers=auth(TOKEN_C))
    assert answer.json()["data"] == "NOT_POSSIBLE"
    bad = await world.http.put(url, json={"profile_type": "TURBO"}, headers=auth(TOKEN_C))
    unknown = await world.http.put(
        "/ocpi/2.2.1/sessions/NOPE/charging_preferences",
        json={"profile_type": "FAST"},
        headers=auth(TOKEN_C),
    )
    assert (bad.status_code, bad.json()["status_code"]) == (400, 2001)
    assert unknown.status_code == 404


async def test_a_cdr_before_its_token_is_kept_and_sent_once_the_token_arrives(
    world: World,
) -> None:
    unowned = UnownedCdrs(world.flows, timedelta(days=30))
    woken: list[bool] = []
    tokens_of(world.ctx).on_written = lambda: woken.append(True)
    await world.flows.batch([cdr_event(a_cdr("CDR-7", uid="late7"), "b-7")])
    await world.flows.batch([cdr_event(a_cdr("CDR-7", uid="late7"), "b-7")])  # redelivered
    assert await world.pushes() == []
    assert await unowned.resolve() == 0  # still nobody's
    partner = await world.ctx.partners.get("emsp1")
    await tokens_of(world.ctx).put(partner, a_token("LATE7"))  # the partner's spelling
    assert woken == [True]
    assert await unowned.resolve() == 1
    assert await unowned.resolve() == 0  # once
    cdrs = [(m, method, body["id"]) for m, method, _, body in await world.pushes()]
    assert cdrs == [("cdrs", "POST", "CDR-7")]


async def test_a_cdr_nobody_claims_is_pruned_after_the_retention(world: World) -> None:
    await world.flows.batch([cdr_event(a_cdr("CDR-8", uid="OURS8"), "b-8")])
    assert await UnownedCdrs(world.flows, timedelta(days=30)).prune() == 0
    assert await UnownedCdrs(world.flows, timedelta(seconds=-1)).prune() == 1
