"""Fleet management through `chargegrid dev`: a 50-station firmware campaign (mixed 1.6 and
2.0.1; failing downloads and installs; stations rebooting mid-install and stations vanishing
mid-install) that survives a restart of the firmware service, and a log upload from a
simulated station (checksum kept, the upload token good once)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import StationConfig, create_station
from chargegrid.simulator.config import FirmwareFailure
from chargegrid.simulator.station import Station
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.timeout(600)

MAX_IN_FLIGHT = 8
NEW_VERSION = "cg-2.0.0"
#: Station index -> how its update goes wrong; every other station updates cleanly.
DOWNLOAD_FAILS = {3, 17, 28, 41}
INSTALL_FAILS = {11, 34}
REBOOTS_MID_INSTALL = {7, 22, 38, 46}
VANISHES_MID_INSTALL = {14, 25, 33, 48}
#: A station has stopped updating once it reported one of these (it shows it until the CSMS
#: answers that notification, by which time the CSMS may already have started the next one).
DONE = {"Idle", "Installed", "DownloadFailed", "InstallationFailed"}
FAILURES = (
    {i: FirmwareFailure.DOWNLOAD for i in DOWNLOAD_FAILS}
    | {i: FirmwareFailure.INSTALL for i in INSTALL_FAILS}
    | {i: FirmwareFailure.OFFLINE_DURING_INSTALL for i in REBOOTS_MID_INSTALL}
)


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("fleet"), env={"CHARGEGRID_FIRMWARE_CAMPAIGN_TICK_S": "0.5"}
    )
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        yield running
    finally:
        running.stop()


@dataclass
class Fleet:
    stations: list[Station]
    vanished: set[str] = field(default_factory=set)
    stopping: list[asyncio.Task[None]] = field(default_factory=list)
    most_busy: int = 0

    def running(self) -> list[Station]:
        return [s for s in self.stations if s.station_id not in self.vanished]

    async def watch(self) -> None:
        """Count stations busy with firmware at every moment; stop the vanishing ones as
        soon as they install."""
        vanishing = {self.stations[i].station_id for i in VANISHES_MID_INSTALL}
        while True:
            for station in self.stations:
                leaving = station.station_id in vanishing - self.vanished
                if leaving and station.firmware.status == "Installing":
                    self.vanished.add(station.station_id)
                    self.stopping.append(asyncio.create_task(station.stop()))
            busy = sum(s.firmware.status not in DONE for s in self.running())
            self.most_busy = max(self.most_busy, busy)
            await asyncio.sleep(0.02)


async def start_fleet(stack: Stack, model: str) -> Fleet:
    stations = []
    for i in range(50):
        config = StationConfig(
            station_id=f"{model}-{i:02d}",
            model=model,
            firmware_step_delay_s=0.3,
            reboot_delay_s=1.0,
            offline_during_install_s=2.0,
            firmware_failure=FAILURES.get(i, FirmwareFailure.NONE),
            reconnect_min_s=0.5,
            reconnect_max_s=2.0,
        )
        stations.append(create_station("1.6" if i % 2 else "2.0.1", config, stack.ocpp_url))
    await asyncio.gather(*(s.start() for s in stations))
    await asyncio.gather(*(s.wait_registered(60) for s in stations))
    return Fleet(stations)


def firmware_stub(stack: Stack) -> tuple[grpc.aio.Channel, pb_grpc.FirmwareAsyncStub]:
    channel = create_channel(stack.address("firmware"), token=stack.admin_token, max_attempts=1)
    stub: pb_grpc.FirmwareAsyncStub = pb_grpc.FirmwareStub(channel)  # type: ignore[assignment]
    return channel, stub


@dataclass
class Progress:
    most_in_progress: int = 0
    restarted_with_queued: int = -1
    final: pb.Campaign | None = None


async def follow(stack: Stack, campaign_id: str, progress: Progress) -> None:
    """WatchCampaign until the campaign ends, through a restart of the firmware service
    once a third of the stations are done."""
    while progress.final is None:
        channel, stub = firmware_stub(stack)
        try:
            async for campaign in stub.WatchCampaign(
                pb.GetCampaignRequest(campaign_id=campaign_id), timeout=600
            ):
                progress.most_in_progress = max(progress.most_in_progress, campaign.in_progress)
                done = campaign.succeeded + campaign.failed + campaign.skipped
                if progress.restarted_with_queued < 0 and done >= 15:
                    progress.restarted_with_queued = campaign.queued
                    await asyncio.to_thread(stack.restart_service, "firmware")
                if campaign.state in (pb.CAMPAIGN_STATE_COMPLETED, pb.CAMPAIGN_STATE_ABORTED):
                    progress.final = campaign
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                raise
            await asyncio.sleep(0.5)  # the service is restarting
        finally:
            await channel.close()


async def test_a_50_station_campaign_survives_a_restart_with_the_right_outcomes(
    stack: Stack,
) -> None:
    model = f"FW{uuid.uuid4().hex[:4].upper()}"
    fleet = await start_fleet(stack, model)
    watcher = asyncio.create_task(fleet.watch())
    try:
        image = json.loads(
            stack.cli(
                "firmware",
                "images",
                "add",
                "--version",
                NEW_VERSION,
                "--location",
                f"https://firmware.example.com/{NEW_VERSION}.bin",
                "--model",
                model,
                "--json",
            ).stdout
        )
        created = json.loads(
            stack.cli(
                "firmware",
                "campaigns",
                "create",
                "--image",
                image["id"],
                "--model",
                model,
                "--max-in-flight",
                str(MAX_IN_FLIGHT),
                "--retries",
                "1",
                "--retry-interval",
                "2",
                "--station-timeout",
                "15",
                "--json",
            ).stdout
        )
        progress = Progress()
        await asyncio.wait_for(follow(stack, created["id"], progress), 300)
    finally:
        watcher.cancel()
        await asyncio.gather(*(s.stop() for s in fleet.running()), return_exceptions=True)

    final = progress.final
    assert final is not None
    assert final.state == pb.CAMPAIGN_STATE_COMPLETED
    assert progress.restarted_with_queued > 0, "the restart did not happen mid-campaign"
    # The in-flight limit held at every moment, seen by the service and by the stations.
    assert progress.most_in_progress <= MAX_IN_FLIGHT, progress
    assert 0 < fleet.most_busy <= MAX_IN_FLIGHT, fleet.most_busy
    outcomes = {u.station_id: u for u in final.stations}
    assert len(outcomes) == 50
    for i, station in enumerate(fleet.stations):
        update = outcomes[station.station_id]
        told = len(station.firmware.received)
        result = (pb.UpdateState.Name(update.state), update.detail, update.attempts, told)
        if i in DOWNLOAD_FAILS:  # retried once, failed both times
            assert result == ("UPDATE_STATE_FAILED", "DownloadFailed", 2, 2), station.station_id
        elif i in INSTALL_FAILS:
            assert result == ("UPDATE_STATE_FAILED", "InstallationFailed", 2, 2), station.station_id
        elif i in VANISHES_MID_INSTALL:  # silent -> timed out; the retry finds it offline
            assert result == ("UPDATE_STATE_FAILED", "offline", 2, 1), station.station_id
        else:  # clean, or rebooted mid-install and reported Installed after the boot
            assert result == ("UPDATE_STATE_SUCCEEDED", "Installed", 1, 1), station.station_id
            assert station.firmware_version == NEW_VERSION
    assert (final.succeeded, final.failed, final.skipped) == (40, 10, 0)
    # The operator's view of it: the CLI table and its exit code (failures -> 1).
    shown = stack.cli("firmware", "campaigns", "watch", created["id"], check=False)
    assert shown.returncode == 1
    assert f"{model}-03" in shown.stdout
    assert "DownloadFailed" in shown.stdout


async def test_a_station_log_upload_lands_with_its_checksum_and_the_token_works_once(
    stack: Stack, tmp_path: Path
) -> None:
    station = create_station(
        "2.0.1", StationConfig(station_id=f"LOG-{uuid.uuid4().hex[:4].upper()}"), stack.ocpp_url
    )
    await station.start()
    try:
        await station.wait_registered(30)
        requested = json.loads(
            (
                await asyncio.to_thread(
                    stack.cli, "logs", "request", "--station", station.station_id, "--json"
                )
            ).stdout
        )
        async with asyncio.timeout(30):
            while not station.uploads.uploaded:
                await asyncio.sleep(0.2)
        ((file_name, body),) = station.uploads.uploaded.items()
        async with asyncio.timeout(30):
            while True:
                listed = json.loads(
                    stack.cli("logs", "list", "--station", station.station_id, "--json").stdout
                )
                entry = next(e for e in listed if e["id"] == requested["id"])
                if entry.get("status") == "Uploaded":
                    break
                await asyncio.sleep(0.5)
    finally:
        await station.stop()
    assert entry["sha256"] == hashlib.sha256(body).hexdigest()
    assert int(entry["size_bytes"]) == len(body)
    assert entry["file_name"] == file_name
    target = tmp_path / "downloaded.log"
    stack.cli("logs", "download", requested["id"], "-o", str(target))
    assert target.read_bytes() == body
    # The station's upload URL was good once; again, or with a made-up token, it is refused.
    upload_url = station.uploads.request.location  # type: ignore[union-attr]
    assert post_status(upload_url + file_name, b"replayed") == 410
    assert post_status(upload_url.rsplit("/", 2)[0] + "/not-a-token/" + file_name, b"x") == 404


def post_status(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_one_station_updated_now_from_a_url_waits_for_the_new_version(
    stack: Stack,
) -> None:
    config = StationConfig(
        station_id=f"ONE-{uuid.uuid4().hex[:4].upper()}",
        firmware_step_delay_s=0.2,
        reboot_delay_s=0.5,
    )
    station = create_station("1.6", config, stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(30)
        done = await asyncio.to_thread(
            stack.cli,
            "firmware", "update", "--station", station.station_id,
            "--url", "https://firmware.example.com/one-3.1.bin", "--wait",
            "--poll-interval", "0.5", "--json",
        )  # fmt: skip
        update = json.loads(done.stdout)
    finally:
        await station.stop()
    assert update["state"] == "UPDATE_STATE_SUCCEEDED"
    assert station.firmware_version == "one-3.1"
    assert len(station.firmware.received) == 1
    shown = stack.cli("firmware", "status", "--station", station.station_id, "--json")
    assert json.loads(shown.stdout)["state"] == "UPDATE_STATE_SUCCEEDED"
