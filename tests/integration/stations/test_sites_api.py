"""Sites over gRPC: create, read, list in pages, edit, delete, and the refusals."""

from __future__ import annotations

import grpc
import pytest

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from tests.integration.stations.builders import a_site, a_station
from tests.integration.stations.conftest import Api


async def test_a_created_site_reads_back_with_its_station_count(api: Api) -> None:
    stub = api.as_role(Role.OPERATOR)
    created = await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    await stub.CreateStation(pb.CreateStationRequest(station=a_station(site_id="site-1")))

    site = await api.as_role(Role.VIEWER).GetSite(pb.GetSiteRequest(site_id="site-1"))

    assert created.created_at.seconds > 0
    assert (site.name, site.country, site.grid_phases, site.station_count) == (
        "Depot North",
        "DE",
        3,
        1,
    )


async def test_a_site_without_id_gets_one(api: Api) -> None:
    site = await api.as_role().CreateSite(pb.CreateSiteRequest(site=a_site(id="")))
    assert site.id.startswith("gen-")


async def test_sites_are_listed_in_pages(api: Api) -> None:
    stub = api.as_role()
    for n in range(5):
        await stub.CreateSite(pb.CreateSiteRequest(site=a_site(id=f"s{n}")))
    seen: list[str] = []
    token = ""
    while True:
        reply = await stub.ListSites(
            pb.ListSitesRequest(page=PageRequest(page_size=2, page_token=token))
        )
        seen += [site.id for site in reply.sites]
        token = reply.next_page_token
        if not token:
            break
    assert seen == ["s0", "s1", "s2", "s3", "s4"]


async def test_an_update_replaces_the_sites_fields(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    updated = await stub.UpdateSite(pb.UpdateSiteRequest(site=a_site(name="Depot South")))
    assert updated.name == "Depot South"


async def test_a_site_with_stations_cannot_be_deleted_until_they_leave(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    await stub.CreateStation(pb.CreateStationRequest(station=a_station(site_id="site-1")))

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.DeleteSite(pb.DeleteSiteRequest(site_id="site-1"))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "still has 1 station" in (refused.value.details() or "")

    await stub.DeleteStation(pb.DeleteStationRequest(station_id="CP-1"))
    await stub.DeleteSite(pb.DeleteSiteRequest(site_id="site-1"))
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await stub.GetSite(pb.GetSiteRequest(site_id="site-1"))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("site", "message"),
    [
        (a_site(name=""), "site.name is required"),
        (a_site(country="Germany"), "ISO 3166-1"),
        (a_site(latitude=91), "latitude"),
        (a_site(timezone="Mars/Olympus"), "IANA"),
        (a_site(grid_phases=4), "grid_phases"),
        (a_site(id="bad id/with slash"), "site.id must be"),
    ],
)
async def test_a_bad_site_is_refused_and_nothing_is_stored(
    api: Api, site: pb.Site, message: str
) -> None:
    stub = api.as_role()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateSite(pb.CreateSiteRequest(site=site))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (refused.value.details() or "")
    assert list((await stub.ListSites(pb.ListSitesRequest())).sites) == []


async def test_a_site_id_twice_is_already_exists(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_viewers_cannot_create_sites(api: Api) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role(Role.VIEWER).CreateSite(pb.CreateSiteRequest(site=a_site()))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
