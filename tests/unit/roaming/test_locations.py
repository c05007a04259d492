"""Locations: built from the stations registry, served paged over OCPI, pushed on change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.locations import mapping
from chargegrid.roaming.locations.store import LocationStore, StatusReport
from chargegrid.roaming.locations.sync import LocationSync
from chargegrid.roaming.outbox import OutboxWorker
from tests.unit.roaming.builders import FakeRegistry, a_site, a_station
from tests.unit.roaming.fakes import (
    OUR_URL,
    FakePartner,
    RoutingTransport,
    a_registered_partner,
    auth,
    build_context,
    close_context,
)


@dataclass
class World:
    ctx: RoamingContext
    store: LocationStore
    registry: FakeRegistry
    sync: LocationSync
    worker: OutboxWorker
    partner: FakePartner
    http: httpx.AsyncClient
    token: str


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport, page_max_limit=2)
    partner = FakePartner()
    transport.route("emsp.test", partner.app())
    store = LocationStore(ctx.sessions, ctx.clock, ctx.outbox, ctx.partners, "DE", "CGR")
    ctx.services["locations"] = store
    registry = FakeRegistry(
        [a_site("SITE1"), a_site("SITE2"), a_site("SITE3")],
        [a_station("CS1", "SITE1"), a_station("CS2", "SITE2", evses=1, kind="cCCS2")],
    )
    token = await a_registered_partner(ctx)
    worker = OutboxWorker(ctx.outbox, ctx.partners, ctx.client, base_backoff_s=0.0)
    http = httpx.AsyncClient(transport=transport, base_url=OUR_URL)
    yield World(
        ctx, store, registry, LocationSync(registry, store, 60), worker, partner, http, token
    )
    await http.aclose()
    await close_context(ctx)


def test_connectors_map_to_ocpi_standards_formats_and_power() -> None:
    ccs = mapping.connector(st.Connector(connector_id=1, type="cCCS2", max_power_w=150000))
    assert (ccs["standard"], ccs["format"], ccs["power_type"]) == (
        "IEC_62196_T2_COMBO",
        "CABLE",
        "DC",
    )
    assert ccs["max_electric_power"] == 150000
    socket = mapping.connector(st.Connector(connector_id=2, type="sType2", max_current_a=16))
    assert (socket["standard"], socket["format"], socket["max_amperage"]) == (
        "IEC_62196_T2",
        "SOCKET",
        16,
    )
    assert mapping.alpha3("de") == "DEU"
    assert mapping.evse_status(ev.CONNECTOR_STATUS_FAULTED) == "OUTOFORDER"
    assert mapping.evse_status(ev.CONNECTOR_STATUS_UNSPECIFIED) == "UNKNOWN"


async def test_sync_pushes_each_new_location_once_and_again_only_on_change(world: World) -> None:
    first = await world.sync.once()
    assert (first.locations_changed, first.evses_changed, first.pushes) == (3, 3, 3)
    assert await world.worker.sweep() == 3
    puts = [(m, path) for m, path, _ in world.partner.received]
    assert puts == [("PUT", f"locations/DE/CGR/SITE{n}") for n in (1, 2, 3)]
    pushed = world.partner.received[0][2]
    assert pushed["country"] == "DEU"
    assert [e["uid"] for e in pushed["evses"]] == ["CS1*1", "CS1*2"]
    assert pushed["evses"][0]["status"] == "AVAILABLE"
    assert (await world.sync.once()).pushes == 0
    world.registry.sites[1] = a_site("SITE2", name="Renamed")
    assert (await world.sync.once()).pushes == 1
    assert await world.worker.sweep() == 1
    assert world.partner.received[-1][2]["name"] == "Renamed"


async def test_get_list_is_paged_with_link_total_and_clamped_limit(world: World) -> None:
    await world.sync.once()
    answer = await world.http.get("/ocpi/2.2.1/locations?limit=500", headers=auth(world.token))
    assert answer.status_code == 200
    assert answer.headers["X-Limit"] == "2"
    assert answer.headers["X-Total-Count"] == "3"
    assert [loc["id"] for loc in answer.json()["data"]] == ["SITE1", "SITE2"]
    # The page is spliced from stored text: it must be what the object itself says.
    assert answer.json()["data"][0] == await world.store.location("SITE1")
    assert answer.json()["status_code"] == 1000
    link = answer.headers["Link"]
    assert 'rel="next"' in link
    assert "offset=2" in link
    url = link.split(";")[0].strip("<>")
    last = await world.http.get(url, headers=auth(world.token))
    assert [loc["id"] for loc in last.json()["data"]] == ["SITE3"]
    assert "Link" not in last.headers


async def test_date_filters_select_by_last_updated(world: World) -> None:
    await world.sync.once()
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    none = await world.http.get(
        f"/ocpi/2.2.1/locations?date_from={later}", headers=auth(world.token)
    )
    assert none.json()["data"] == []
    assert none.headers["X-Total-Count"] == "0"
    everything = await world.http.get(
        f"/ocpi/2.2.1/locations?date_to={later}", headers=auth(world.token)
    )
    assert everything.headers["X-Total-Count"] == "3"


@pytest.mark.parametrize(
    "query",
    ["limit=abc", "offset=-1", "date_from=yesterday", "date_from=2026-02-01&date_to=2026-01-01"],
)
async def test_bad_paging_parameters_are_2001(world: World, query: str) -> None:
    answer = await world.http.get(f"/ocpi/2.2.1/locations?{query}", headers=auth(world.token))
    assert answer.status_code == 400
    assert answer.json()["status_code"] == 2001


async def test_one_location_evse_and_connector_and_unknown_ones(world: World) -> None:
    await world.sync.once()
    base = "/ocpi/2.2.1/locations/SITE1"
    location = (await world.http.get(base, headers=auth(world.token))).json()["data"]
    assert location["id"] == "SITE1"
    assert location["last_updated"].endswith("Z")
    evse = (await world.http.get(f"{base}/CS1*2", headers=auth(world.token))).json()["data"]
    assert evse["uid"] == "CS1*2"
    connector = await world.http.get(f"{base}/CS1*2/1", headers=auth(world.token))
    assert connector.json()["data"]["standard"] == "IEC_62196_T2"
    for path in ("/ocpi/2.2.1/locations/NOPE", f"{base}/CS9*1", f"{base}/CS1*2/7"):
        answer = await world.http.get(path, headers=auth(world.token))
        assert answer.status_code == 404, path
        assert answer.json()["status_code"] == 2003


async def test_location_evse_and_connector_ids_match_in_any_case(world: World) -> None:
    await world.sync.once()
    answer = await world.http.get("/ocpi/2.2.1/locations/site1/cs1*2/1", headers=auth(world.token))
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["standard"] == "IEC_62196_T2"
    location = await world.http.get("/ocpi/2.2.1/locations/Site1", headers=auth(world.token))
    assert location.json()["data"]["id"] == "SITE1"  # our spelling, whatever theirs


async def test_a_partner_without_the_module_is_refused(world: World) -> None:
    other = await a_registered_partner(
        world.ctx, "emsp2", modules=["credentials"], token="other-token"
    )
    answer = await world.http.get("/ocpi/2.2.1/locations", headers=auth(other))
    assert answer.status_code == 403
    unknown_module = await world.http.get("/ocpi/2.2.1/chargingprofiles", headers=auth(other))
    assert unknown_module.status_code == 404
    assert unknown_module.json()["status_code"] == 2003
    _, token_a = await world.ctx.partners.add("emsp3")
    pending = await world.http.get("/ocpi/2.2.1/locations", headers=auth(token_a))
    assert pending.status_code == 401


def report(event_id: str, status: int, at: datetime, station: str = "CS1") -> StatusReport:
    return StatusReport(event_id, station, 2, status, at)


async def test_status_changes_are_patched_after_the_put_and_only_once(world: World) -> None:
    await world.sync.once()
    now = datetime.now(UTC)
    charging = report("ev-1", ev.CONNECTOR_STATUS_CHARGING, now)
    assert await world.store.apply_statuses([charging]) == 1
    assert await world.store.apply_statuses([charging]) == 0  # redelivered: nothing twice
    older = report("ev-0", ev.CONNECTOR_STATUS_FAULTED, now - timedelta(minutes=1))
    assert await world.store.apply_statuses([older]) == 0
    await world.worker.sweep()
    site1 = [(m, p, b) for m, p, b in world.partner.received if "SITE1" in p]
    assert [(m, p) for m, p, _ in site1] == [
        ("PUT", "locations/DE/CGR/SITE1"),
        ("PATCH", "locations/DE/CGR/SITE1/CS1*2"),
    ]
    assert site1[1][2]["status"] == "CHARGING"
    evse = await world.http.get("/ocpi/2.2.1/locations/SITE1/CS1*2", headers=auth(world.token))
    assert evse.json()["data"]["status"] == "CHARGING"


async def test_a_batch_of_reports_for_one_evse_pushes_its_newest_status_once(
    world: World,
) -> None:
    await world.sync.once()
    now = datetime.now(UTC)
    steps = [
        report("ev-a", ev.CONNECTOR_STATUS_PREPARING, now),
        report("ev-c", ev.CONNECTOR_STATUS_FAULTED, now + timedelta(seconds=2)),
        report("ev-b", ev.CONNECTOR_STATUS_CHARGING, now + timedelta(seconds=1)),
    ]
    assert await world.store.apply_statuses(steps) == 1
    await world.worker.sweep()
    patches = [b for m, p, b in world.partner.received if m == "PATCH" and "CS1*2" in p]
    assert [b["status"] for b in patches] == ["OUTOFORDER"]
    # A report older than the one stored, in a later batch, changes nothing.
    late = report("ev-d", ev.CONNECTOR_STATUS_AVAILABLE, now + timedelta(seconds=1))
    assert await world.store.apply_statuses([late]) == 0


async def test_a_status_reported_before_the_station_is_known_is_used_by_the_sync(
    world: World,
) -> None:
    at = datetime.now(UTC)
    await world.store.apply_statuses([report("ev-9", ev.CONNECTOR_STATUS_FAULTED, at, "CS3")])
    world.registry.stations.append(a_station("CS3", "SITE3", evses=2))
    await world.sync.once()
    location = await world.store.location("SITE3")
    assert location is not None
    assert {e["uid"]: e["status"] for e in location["evses"]} == {
        "CS3*1": "AVAILABLE",
        "CS3*2": "OUTOFORDER",
    }


async def test_an_evse_gone_from_the_registry_is_pushed_as_removed(world: World) -> None:
    await world.sync.once()
    world.registry.stations[0] = a_station("CS1", "SITE1", evses=1)
    result = await world.sync.once()
    assert result.evses_changed == 1
    location = await world.store.location("SITE1")
    assert location is not None
    assert {e["uid"]: e["status"] for e in location["evses"]}["CS1*2"] == "REMOVED"
