"""Campaigns: waves of at most max_in_flight, retries, timeouts, windows, pause, resume,
abort and watch, with the runner ticked by hand and station events sent to the consumer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.platform.grpc import Role
from tests.integration.firmware.conftest import Api, Database, FakeClock, Gateway
from tests.integration.firmware.test_updates_api import Station, image

STATIONS = ["CP-A", "CP-B", "CP-C"]


async def create(api: Api, gateway: Gateway, **fields: object) -> pb.Campaign:
    stub = api.as_role()
    added = await stub.AddImage(pb.AddImageRequest(image=image()))
    for station_id in STATIONS:
        gateway.control.online.setdefault(station_id, "Accepted")
    campaign = pb.Campaign(
        image_id=added.id, target=pb.CampaignTarget(station_ids=STATIONS), **fields
    )
    return await stub.CreateCampaign(pb.CreateCampaignRequest(campaign=campaign))


async def get(api: Api, campaign_id: str) -> pb.Campaign:
    return await api.as_role(Role.VIEWER).GetCampaign(
        pb.GetCampaignRequest(campaign_id=campaign_id)
    )


async def finish(db: Database, clock: FakeClock, update: pb.StationUpdate, version: str) -> None:
    station = Station(db, clock, update.station_id)
    await station.firmware("Installed", update.request_id)
    await station.boot(version)


async def test_a_campaign_updates_in_waves_and_completes(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    created = await create(api, gateway, max_in_flight=2)
    assert (created.state, created.queued) == (pb.CAMPAIGN_STATE_RUNNING, 3)
    await api.runner.tick()
    first = await get(api, created.id)
    assert (first.in_progress, first.queued) == (2, 1)
    assert [u.station_id for u in gateway.control.updates] == ["CP-A", "CP-B"]
    await api.runner.tick()
    assert len(gateway.control.updates) == 2  # the wave is full
    sent = [u for u in first.stations if u.state == pb.UPDATE_STATE_IN_PROGRESS]
    await finish(db, clock, sent[0], "2.0")
    await finish(db, clock, sent[1], "1.0")
    await api.runner.tick()
    second = await get(api, created.id)
    assert (second.succeeded, second.failed, second.in_progress) == (1, 1, 1)
    [last] = [u for u in second.stations if u.state == pb.UPDATE_STATE_IN_PROGRESS]
    assert last.station_id == "CP-C"
    assert last.campaign_id == created.id
    await finish(db, clock, last, "2.0")
    await api.runner.tick()
    done = await get(api, created.id)
    assert (done.state, done.succeeded, done.failed) == (pb.CAMPAIGN_STATE_COMPLETED, 2, 1)
    listed = await api.as_role().ListCampaigns(pb.ListCampaignsRequest())
    assert [c.id for c in listed.campaigns] == [created.id]


async def test_failures_are_retried_and_silent_stations_time_out(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    gateway.control.online.pop("CP-A", None)
    created = await create(
        api, gateway, max_in_flight=3, retries=1, retry_interval_s=60, station_timeout_s=600
    )
    gateway.control.online.pop("CP-A", None)
    await api.runner.tick()
    offline = await get(api, created.id)
    assert (offline.failed, offline.in_progress) == (1, 2)
    clock.advance(30)
    await api.runner.tick()
    assert (await get(api, created.id)).failed == 1  # waiting for the retry interval
    gateway.control.online["CP-A"] = "Accepted"
    clock.advance(31)
    await api.runner.tick()
    retried = await get(api, created.id)
    [station_a] = [u for u in retried.stations if u.station_id == "CP-A"]
    assert (station_a.state, station_a.attempts) == (pb.UPDATE_STATE_IN_PROGRESS, 2)
    clock.advance(601)
    await api.runner.tick()  # all time out: A for good, B and C retry after 60 s
    clock.advance(61)
    await api.runner.tick()
    again = await get(api, created.id)
    assert (again.in_progress, again.failed, again.state) == (2, 1, pb.CAMPAIGN_STATE_RUNNING)
    clock.advance(601)
    await api.runner.tick()
    ended = await get(api, created.id)
    assert ended.state == pb.CAMPAIGN_STATE_COMPLETED
    assert {(u.station_id, u.detail, u.attempts) for u in ended.stations} == {
        ("CP-A", "timed out", 2),
        ("CP-B", "timed out", 2),
        ("CP-C", "timed out", 2),
    }


async def test_nothing_starts_outside_the_window(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    created = await create(api, gateway, window_start="22:00", window_end="04:00")
    await api.runner.tick()  # the fake clock says 08:00 UTC
    assert (await get(api, created.id)).queued == 3
    clock.advance(14 * 3600)
    await api.runner.tick()
    assert (await get(api, created.id)).in_progress == 1


async def test_pause_resume_abort_and_watch(api: Api, gateway: Gateway) -> None:
    created = await create(api, gateway, max_in_flight=1)
    stub = api.as_role()
    watched: list[pb.Campaign] = []

    async def watch() -> None:
        async for campaign in stub.WatchCampaign(pb.GetCampaignRequest(campaign_id=created.id)):
            watched.append(campaign)

    watcher = asyncio.create_task(watch())
    paused = await stub.PauseCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    assert paused.state == pb.CAMPAIGN_STATE_PAUSED
    await api.runner.tick()
    assert gateway.control.updates == []
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await stub.PauseCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    assert twice.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await stub.ResumeCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    await api.runner.tick()
    assert len(gateway.control.updates) == 1
    aborted = await stub.AbortCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    assert (aborted.state, aborted.skipped, aborted.in_progress) == (
        pb.CAMPAIGN_STATE_ABORTED,
        2,
        1,
    )
    assert {u.detail for u in aborted.stations if u.state == pb.UPDATE_STATE_SKIPPED} == {"aborted"}
    await asyncio.wait_for(watcher, 5)
    assert watched[-1].state == pb.CAMPAIGN_STATE_ABORTED
    assert len(watched) >= 2


async def test_campaigns_are_validated_and_bad_ones_create_nothing(
    api: Api, gateway: Gateway, db: Database
) -> None:
    stub = api.as_role()
    bad = [
        pb.Campaign(image_id="x"),
        pb.Campaign(image_id="x", target=pb.CampaignTarget(station_ids=["A"], site_id="S1")),
        pb.Campaign(target=pb.CampaignTarget(station_ids=["A"])),
        pb.Campaign(
            image_id="x",
            target=pb.CampaignTarget(station_ids=["A"]),
            window_start="25:00",
            window_end="01:00",
        ),
    ]
    for campaign in bad:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.CreateCampaign(pb.CreateCampaignRequest(campaign=campaign))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.CreateCampaign(
            pb.CreateCampaignRequest(
                campaign=pb.Campaign(image_id="nope", target=pb.CampaignTarget(station_ids=["A"]))
            )
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert await db.rows() == (0, 0)
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.GetCampaign(pb.GetCampaignRequest(campaign_id="nope"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_stopping_the_runner_waits_for_the_tick_under_way(api: Api, gateway: Gateway) -> None:
    created = await create(api, gateway, max_in_flight=3)
    gateway.control.delay_s = 0.5
    tick = asyncio.create_task(api.runner.tick())
    await asyncio.sleep(0.1)  # the tick is sending
    await api.runner.stop()
    assert tick.done()
    sent = await get(api, created.id)
    # Everything the tick marked was sent and its answer stored; nothing new starts.
    assert (sent.in_progress, sent.queued) == (3, 0)
    assert all(u.detail == "Accepted" for u in sent.stations)
    await api.runner.tick()
    assert len(gateway.control.updates) == 3


async def test_a_scheduled_campaign_touches_no_station_before_its_start(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    starts_at = Timestamp()
    starts_at.FromDatetime(clock.now + timedelta(hours=2))
    created = await create(api, gateway, max_in_flight=3, starts_at=starts_at)
    assert created.state == pb.CAMPAIGN_STATE_SCHEDULED
    assert created.starts_at == starts_at
    await api.runner.tick()
    clock.advance(2 * 3600 - 1)
    await api.runner.tick()
    waiting = await get(api, created.id)
    assert (waiting.state, waiting.queued, gateway.control.updates) == (
        pb.CAMPAIGN_STATE_SCHEDULED,
        3,
        [],
    )
    clock.advance(1)
    await api.runner.tick()
    started = await get(api, created.id)
    assert (started.state, started.in_progress) == (pb.CAMPAIGN_STATE_RUNNING, 3)
    assert len(gateway.control.updates) == 3


async def test_a_scheduled_campaign_can_be_paused_resumed_and_aborted_before_it_starts(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    starts_at = Timestamp()
    starts_at.FromDatetime(clock.now + timedelta(hours=1))
    created = await create(api, gateway, starts_at=starts_at)
    stub = api.as_role()
    paused = await stub.PauseCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    assert paused.state == pb.CAMPAIGN_STATE_PAUSED
    resumed = await stub.ResumeCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    assert resumed.state == pb.CAMPAIGN_STATE_SCHEDULED  # its start still lies ahead
    aborted = await stub.AbortCampaign(pb.GetCampaignRequest(campaign_id=created.id))
    assert (aborted.state, aborted.skipped) == (pb.CAMPAIGN_STATE_ABORTED, 3)
    clock.advance(3600)
    await api.runner.tick()
    assert (await get(api, created.id)).state == pb.CAMPAIGN_STATE_ABORTED
    assert gateway.control.updates == []


async def test_a_start_in_the_past_runs_at_once(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    starts_at = Timestamp()
    starts_at.FromDatetime(clock.now - timedelta(minutes=5))
    created = await create(api, gateway, starts_at=starts_at)
    assert created.state == pb.CAMPAIGN_STATE_RUNNING
