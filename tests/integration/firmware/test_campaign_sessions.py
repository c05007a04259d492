"""`force` against charging sessions: an unforced update waits for the station to be free,
ends SKIPPED when only such stations are left, and is never sent while the session service
cannot say; a forced one goes anyway. UpdateStation refuses a charging station."""

from __future__ import annotations

import grpc
import pytest

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from tests.integration.firmware.conftest import Api, Database, FakeClock, Gateway, Peers
from tests.integration.firmware.test_campaigns_api import create, finish, get
from tests.integration.firmware.test_updates_api import image


def states(campaign: pb.Campaign) -> dict[str, tuple[int, str]]:
    return {u.station_id: (u.state, u.detail) for u in campaign.stations}


def sent(gateway: Gateway) -> list[str]:
    return [u.station_id for u in gateway.control.updates]


async def test_a_station_in_session_is_passed_over_then_skipped(
    api: Api, gateway: Gateway, peers: Peers, db: Database, clock: FakeClock
) -> None:
    peers.sessions.charging.add("CP-B")
    created = await create(api, gateway, max_in_flight=3)
    await api.runner.tick()
    first = await get(api, created.id)
    assert sent(gateway) == ["CP-A", "CP-C"]
    assert states(first)["CP-B"] == (pb.UPDATE_STATE_QUEUED, "in session")
    assert (first.in_progress, first.queued, first.state) == (2, 1, pb.CAMPAIGN_STATE_RUNNING)
    await api.runner.tick()
    assert sent(gateway) == ["CP-A", "CP-C"]  # asked again, still charging
    assert peers.sessions.asked.count("CP-B") == 2
    for update in first.stations:
        if update.state == pb.UPDATE_STATE_IN_PROGRESS:
            await finish(db, clock, update, "2.0")
    await api.runner.tick()
    done = await get(api, created.id)
    assert states(done)["CP-B"] == (pb.UPDATE_STATE_SKIPPED, "in session")
    assert (done.state, done.succeeded, done.skipped) == (pb.CAMPAIGN_STATE_COMPLETED, 2, 1)


async def test_a_station_whose_session_ended_is_updated_on_a_later_tick(
    api: Api, gateway: Gateway, peers: Peers
) -> None:
    peers.sessions.charging.add("CP-A")
    created = await create(api, gateway, max_in_flight=1)
    await api.runner.tick()
    assert sent(gateway) == ["CP-B"]  # A is passed over, B goes in its place
    peers.sessions.charging.clear()
    await api.runner.tick()
    assert sent(gateway) == ["CP-B"]  # the wave is full
    assert states(await get(api, created.id))["CP-A"] == (pb.UPDATE_STATE_QUEUED, "in session")


async def test_a_forced_campaign_updates_stations_in_session(
    api: Api, gateway: Gateway, peers: Peers
) -> None:
    peers.sessions.charging.update({"CP-A", "CP-B", "CP-C"})
    created = await create(api, gateway, max_in_flight=3, force=True)
    await api.runner.tick()
    assert sent(gateway) == ["CP-A", "CP-B", "CP-C"]
    assert peers.sessions.asked == []
    assert (await get(api, created.id)).in_progress == 3


async def test_nothing_unforced_is_sent_while_the_session_service_is_down(
    api: Api, gateway: Gateway, peers: Peers
) -> None:
    peers.sessions.down = True
    created = await create(api, gateway, max_in_flight=3)
    await api.runner.tick()
    assert sent(gateway) == []
    waiting = await get(api, created.id)
    assert set(states(waiting).values()) == {
        (pb.UPDATE_STATE_QUEUED, "session service unavailable")
    }
    assert waiting.state == pb.CAMPAIGN_STATE_RUNNING
    peers.sessions.down = False
    await api.runner.tick()
    assert sent(gateway) == ["CP-A", "CP-B", "CP-C"]


async def test_update_station_is_refused_during_a_session_unless_forced(
    api: Api, gateway: Gateway, peers: Peers, db: Database
) -> None:
    stub = api.as_role()
    added = await stub.AddImage(pb.AddImageRequest(image=image()))
    gateway.control.online["CP-1"] = "Accepted"
    peers.sessions.charging.add("CP-1")
    request = pb.UpdateStationRequest(station_id="CP-1", image_id=added.id)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.UpdateStation(request)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == "station CP-1 has an active session; use force"
    assert (await db.rows(), sent(gateway)) == ((0, 0), [])
    request.force = True
    forced = await stub.UpdateStation(request)
    assert forced.state == pb.UPDATE_STATE_IN_PROGRESS
    assert sent(gateway) == ["CP-1"]


async def test_update_station_is_unavailable_while_the_session_service_is_down(
    api: Api, gateway: Gateway, peers: Peers, db: Database
) -> None:
    gateway.control.online["CP-1"] = "Accepted"
    peers.sessions.down = True
    request = pb.UpdateStationRequest(station_id="CP-1", location="https://fw.example/x.bin")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role().UpdateStation(request)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "session service unavailable" in str(refused.value.details())
    assert (await db.rows(), sent(gateway)) == ((0, 0), [])
