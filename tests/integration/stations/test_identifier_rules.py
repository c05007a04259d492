"""The Stations API keeps the product's one rule per identifier and the free-text limits: a
bad id or an over-long string is INVALID_ARGUMENT naming the field and the limit, and
nothing is stored (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from tests.integration.stations.builders import a_boot, a_site, a_station
from tests.integration.stations.conftest import Api


async def refused(call: Any, request: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return error.value.details() or ""


async def stored_station_ids(api: Api) -> list[str]:
    reply = await api.as_role(Role.VIEWER).ListStations(pb.ListStationsRequest())
    return [station.id for station in reply.stations]


@pytest.mark.parametrize("station_id", ["a/b", "CPé", "CP 1", "CP\x00", "C" * 49])
async def test_a_station_id_the_gateway_would_refuse_is_refused_by_the_api(
    api: Api, station_id: str
) -> None:
    details = await refused(
        api.as_role().CreateStation, pb.CreateStationRequest(station=a_station(id=station_id))
    )

    assert details.startswith("station.id ")
    assert "1-48 characters" in details
    assert await stored_station_ids(api) == []


async def test_a_boot_of_a_station_id_breaking_the_rule_is_refused(api: Api) -> None:
    details = await refused(api.as_role(Role.SERVICE).RegisterBoot, a_boot(station_id="CP/../1"))

    assert details.startswith("station_id ")
    assert await stored_station_ids(api) == []


async def test_the_longest_station_id_with_every_allowed_character_is_accepted(api: Api) -> None:
    station_id = ("Az09*-_=:+|@." * 4)[:48]

    await api.as_role().CreateStation(pb.CreateStationRequest(station=a_station(id=station_id)))

    assert await stored_station_ids(api) == [station_id]


async def test_a_100000_character_site_name_is_refused_and_nothing_stored(api: Api) -> None:
    details = await refused(
        api.as_role().CreateSite, pb.CreateSiteRequest(site=a_site(name="x" * 100_000))
    )

    assert details == "site.name is longer than 255 characters (100000 given)"
    sites = await api.as_role(Role.VIEWER).ListSites(pb.ListSitesRequest())
    assert list(sites.sites) == []


@pytest.mark.parametrize(
    ("field", "limit"), [("address", 45), ("city", 45), ("postal_code", 10), ("timezone", 64)]
)
async def test_every_site_text_field_has_its_limit(api: Api, field: str, limit: int) -> None:
    details = await refused(
        api.as_role().CreateSite, pb.CreateSiteRequest(site=a_site(**{field: "x" * (limit + 1)}))
    )

    assert details.startswith(f"site.{field} is longer than {limit} characters")


async def test_a_site_id_longer_than_36_is_refused(api: Api) -> None:
    details = await refused(
        api.as_role().CreateSite, pb.CreateSiteRequest(site=a_site(id="s" * 37))
    )

    assert details.startswith("site.id is longer than 36 characters")


async def test_an_edit_of_a_site_to_an_over_long_name_changes_nothing(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))

    await refused(stub.UpdateSite, pb.UpdateSiteRequest(site=a_site(name="y" * 256)))

    site = await stub.GetSite(pb.GetSiteRequest(site_id="site-1"))
    assert site.name == "Depot North"


@pytest.mark.parametrize(
    ("field", "limit"),
    [("vendor", 50), ("model", 20), ("serial_number", 25), ("firmware_version", 50)],
)
async def test_station_details_keep_the_ocpp_lengths(api: Api, field: str, limit: int) -> None:
    station = a_station(**{field: "v" * (limit + 1)})

    details = await refused(api.as_role().CreateStation, pb.CreateStationRequest(station=station))

    assert details.startswith(f"station.{field} is longer than {limit} characters")
    assert await stored_station_ids(api) == []
