"""Silent stations are never left pending: single-station updates time out after the
service's `station_timeout_s`, as do campaign updates whose campaign sets none."""

from __future__ import annotations

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.firmware.runner import CampaignRunner
from tests.integration.firmware.conftest import Api, Database, FakeClock, Gateway
from tests.integration.firmware.test_campaigns_api import create, get
from tests.integration.firmware.test_updates_api import Station

LOCATION = "https://fw.example/x.bin"


async def current(api: Api, station_id: str) -> pb.StationUpdate:
    request = pb.GetStationUpdateRequest(station_id=station_id)
    return await api.as_role().GetStationUpdate(request)


async def test_a_silent_single_station_update_times_out(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    api.deps.station_timeout_s = 600
    stub = api.as_role()
    for station_id in ("CP-QUIET", "CP-TALKS"):
        gateway.control.online[station_id] = "Accepted"
        await stub.UpdateStation(pb.UpdateStationRequest(station_id=station_id, location=LOCATION))
    clock.advance(400)
    talks = await current(api, "CP-TALKS")
    await Station(db, clock, "CP-TALKS").firmware("Downloading", talks.request_id)
    clock.advance(200)
    await api.runner.tick()
    quiet = await current(api, "CP-QUIET")
    assert (quiet.state, quiet.detail) == (pb.UPDATE_STATE_FAILED, "timed out")
    still = await current(api, "CP-TALKS")
    assert (still.state, still.detail) == (pb.UPDATE_STATE_IN_PROGRESS, "Downloading")
    clock.advance(400)
    await api.runner.tick()
    assert (await current(api, "CP-TALKS")).detail == "timed out"


async def test_a_campaign_without_its_own_timeout_uses_the_services(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    api.deps.station_timeout_s = 900
    created = await create(api, gateway, max_in_flight=3)
    await api.runner.tick()
    clock.advance(899)
    await api.runner.tick()
    assert (await get(api, created.id)).in_progress == 3
    clock.advance(1)
    await api.runner.tick()
    ended = await get(api, created.id)
    assert (ended.state, ended.failed) == (pb.CAMPAIGN_STATE_COMPLETED, 3)
    assert {u.detail for u in ended.stations} == {"timed out"}


async def test_time_the_service_was_down_does_not_count_as_silence(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    created = await create(api, gateway, max_in_flight=3, station_timeout_s=60)
    await api.runner.tick()
    # Down for longer than the timeout; what the stations said meanwhile is still unread.
    await api.runner.stop()
    clock.advance(300)
    restarted = CampaignRunner(api.deps)
    await restarted.tick()
    assert (await get(api, created.id)).in_progress == 3
    clock.advance(60)
    await restarted.tick()
    assert (await get(api, created.id)).failed == 3
