"""Tariffs: billing's tariffs in the OCPI model, served paged, pushed when they change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from chargegrid.api.billing.v1 import billing_pb2 as bp
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.outbox import OutboxWorker
from chargegrid.roaming.tariffs import mapping
from chargegrid.roaming.tariffs.store import TariffStore
from tests.unit.roaming.fakes import (
    OUR_URL,
    FakePartner,
    RoutingTransport,
    a_registered_partner,
    auth,
    build_context,
    close_context,
)


def a_tariff(tariff_id: str = "T1", price: str = "0.39", **overrides: object) -> bp.Tariff:
    fields: dict[str, object] = {
        "id": tariff_id,
        "currency": "EUR",
        "vat_percent": "19",
        "display_text": "0.39 EUR/kWh",
        "elements": [
            bp.TariffElement(
                price_components=[
                    bp.PriceComponent(type=bp.PRICE_COMPONENT_TYPE_ENERGY, price=price, step_size=1)
                ]
            ),
            bp.TariffElement(
                price_components=[
                    bp.PriceComponent(
                        type=bp.PRICE_COMPONENT_TYPE_PARKING_TIME,
                        price="6.00",
                        vat_percent="7",
                        step_size=300,
                    )
                ],
                restrictions=bp.TariffRestrictions(
                    start_time="08:00",
                    end_time="20:00",
                    min_power_kw="11.5",
                    day_of_week=[bp.DAY_OF_WEEK_MONDAY, bp.DAY_OF_WEEK_FRIDAY],
                ),
            ),
        ],
    }
    fields.update(overrides)
    return bp.Tariff(**fields)  # type: ignore[arg-type]


@dataclass
class World:
    ctx: RoamingContext
    store: TariffStore
    worker: OutboxWorker
    partner: FakePartner
    http: httpx.AsyncClient
    token: str


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport)
    partner = FakePartner()
    transport.route("emsp.test", partner.app())
    store = TariffStore(ctx.sessions, ctx.clock, ctx.outbox, ctx.partners, "DE", "CGR")
    ctx.services["tariffs"] = store
    token = await a_registered_partner(ctx, modules=["credentials", "tariffs"])
    worker = OutboxWorker(ctx.outbox, ctx.partners, ctx.client, base_backoff_s=0.0)
    http = httpx.AsyncClient(transport=transport, base_url=OUR_URL)
    yield World(ctx, store, worker, partner, http, token)
    await http.aclose()
    await close_context(ctx)


def test_a_billing_tariff_maps_to_the_ocpi_model() -> None:
    doc = mapping.tariff("DE", "CGR", a_tariff())
    energy, parking = doc["elements"]
    assert energy["price_components"] == [
        {"type": "ENERGY", "price": 0.39, "step_size": 1, "vat": 19}
    ]
    assert parking["price_components"][0]["vat"] == 7
    assert parking["restrictions"] == {
        "start_time": "08:00",
        "end_time": "20:00",
        "min_power": 11.5,
        "day_of_week": ["MONDAY", "FRIDAY"],
    }
    assert doc["tariff_alt_text"] == [{"language": "en", "text": "0.39 EUR/kWh"}]


async def test_tariffs_are_pushed_when_new_changed_or_gone(world: World) -> None:
    assert await world.store.sync([a_tariff("T1"), a_tariff("T2")]) == 2
    assert await world.store.sync([a_tariff("T1"), a_tariff("T2")]) == 0
    assert await world.store.sync([a_tariff("T1", price="0.45")]) == 2  # T1 changed, T2 gone
    await world.worker.sweep()
    t1 = [(m, b) for m, p, b in world.partner.received if p.endswith("T1")]
    t2 = [m for m, p, _ in world.partner.received if p.endswith("T2")]
    assert [m for m, _ in t1] == ["PUT", "PUT"]
    assert t1[1][1]["elements"][0]["price_components"][0]["price"] == 0.45
    assert t2 == ["PUT", "DELETE"]
    assert (await world.ctx.outbox.backlog())["emsp1"].backlog == 0
    listed = await world.http.get("/ocpi/2.2.1/tariffs", headers=auth(world.token))
    assert [t["id"] for t in listed.json()["data"]] == ["T1"]


async def test_get_tariffs_is_paged_and_refuses_bad_limits(world: World) -> None:
    await world.store.sync([a_tariff(f"T{n}") for n in range(3)])
    answer = await world.http.get("/ocpi/2.2.1/tariffs?limit=2", headers=auth(world.token))
    assert answer.headers["X-Total-Count"] == "3"
    assert [t["id"] for t in answer.json()["data"]] == ["T0", "T1"]
    assert answer.json()["data"][0]["last_updated"].endswith("Z")
    bad = await world.http.get("/ocpi/2.2.1/tariffs?limit=-5", headers=auth(world.token))
    assert bad.status_code == 400
    assert bad.json()["status_code"] == 2001
    nobody = await world.http.get("/ocpi/2.2.1/tariffs")
    assert nobody.status_code == 401
