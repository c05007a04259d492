"""Campaign targets by selection: resolved through the stations service at creation, kept
with the campaign; both forms at once, no match or a stations service that is down refuse
the campaign and create nothing."""

from __future__ import annotations

import grpc
import pytest

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from tests.integration.firmware.conftest import Api, Database, Peers
from tests.integration.firmware.test_updates_api import image


async def an_image(api: Api) -> str:
    added = await api.as_role().AddImage(pb.AddImageRequest(image=image()))
    return str(added.id)


def a_fleet(peers: Peers) -> None:
    fleet = peers.stations
    fleet.add_site("S1", "Europe/Berlin")
    fleet.add_site("S2", "Asia/Tokyo")
    fleet.add_station("CP-1", "S1")
    fleet.add_station("CP-2", "S1", model="Volt 22")
    fleet.add_station("CP-3", "S1", firmware_version="2.0")
    fleet.add_station("CP-4", "S1")
    fleet.add_station("CP-5", "S1", vendor="Other")
    fleet.add_station("CP-6", "S2")
    fleet.add_station("CP-7", "S1")


async def create(api: Api, target: pb.CampaignTarget) -> pb.Campaign:
    campaign = pb.Campaign(image_id=await an_image(api), target=target)
    return await api.as_role().CreateCampaign(pb.CreateCampaignRequest(campaign=campaign))


async def test_a_selection_targets_every_matching_station_over_all_pages(
    api: Api, peers: Peers
) -> None:
    a_fleet(peers)
    selection = pb.CampaignTarget(
        site_id="S1", vendor="Acme", model="Volt 16", current_version="1.0"
    )
    created = await create(api, selection)
    assert list(created.target.station_ids) == ["CP-1", "CP-4", "CP-7"]
    assert (created.target.site_id, created.target.vendor) == ("S1", "Acme")
    assert (created.target.model, created.target.current_version) == ("Volt 16", "1.0")
    assert [s.station_id for s in created.stations] == ["CP-1", "CP-4", "CP-7"]
    assert created.queued == 3
    fetched = await api.as_role().GetCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    assert fetched.target == created.target


async def test_any_one_filter_is_a_selection(api: Api, peers: Peers) -> None:
    a_fleet(peers)
    created = await create(api, pb.CampaignTarget(model="Volt 22"))
    assert list(created.target.station_ids) == ["CP-2"]
    assert created.target.model == "Volt 22"
    assert not created.target.site_id


async def test_a_filter_the_stations_service_ignores_is_still_applied(
    api: Api, peers: Peers
) -> None:
    a_fleet(peers)
    peers.stations.ignored_filter = "vendor"
    created = await create(api, pb.CampaignTarget(site_id="S1", vendor="Other"))
    assert list(created.target.station_ids) == ["CP-5"]


async def test_a_selection_matching_no_station_creates_nothing(
    api: Api, peers: Peers, db: Database
) -> None:
    a_fleet(peers)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await create(api, pb.CampaignTarget(site_id="S2", current_version="9.9"))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no station matches" in str(refused.value.details())
    assert "current_version='9.9'" in str(refused.value.details())
    assert await db.rows() == (0, 0)


async def test_station_ids_and_a_selection_at_once_are_refused(
    api: Api, peers: Peers, db: Database
) -> None:
    a_fleet(peers)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await create(api, pb.CampaignTarget(station_ids=["CP-1"], vendor="Acme"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not both" in str(refused.value.details())
    assert await db.rows() == (0, 0)


@pytest.mark.parametrize(
    "target",
    [pb.CampaignTarget(site_id="S1"), pb.CampaignTarget(station_ids=["CP-1"])],
    ids=["selection", "station-ids"],
)
async def test_a_stations_service_that_is_down_creates_nothing(
    api: Api, peers: Peers, db: Database, target: pb.CampaignTarget
) -> None:
    a_fleet(peers)
    peers.stations.down = True
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await create(api, target)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "stations service unavailable" in str(refused.value.details())
    assert await db.rows() == (0, 0)
