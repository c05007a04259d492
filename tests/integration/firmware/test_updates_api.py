"""Images and single-station updates through the API, driven by station events."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import Message

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.firmware.consumers import FirmwareEvents
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.grpc import Role
from tests.integration.firmware.conftest import Api, Database, FakeClock, Gateway

STATION = "CP-1"


def image(**overrides: str) -> pb.FirmwareImage:
    fields = {"version": "2.0", "vendor": "Acme", "model": "Volt 16"}
    fields["location"] = "https://fw.example/acme-2.0.bin"
    fields.update(overrides)
    return pb.FirmwareImage(**fields)


class Station:
    """Sends this station's events straight to the consumer's handler."""

    def __init__(self, db: Database, clock: FakeClock, station_id: str = STATION) -> None:
        self.handler = FirmwareEvents(db.sessions, clock, ["TamperDetectionActivated"])
        self.factory = EnvelopeFactory("gateway/test", clock=clock)
        self.station_id = station_id

    async def send(self, kind: str, payload: Message) -> None:
        await self.handler(self.factory.wrap(f"station.{kind}", self.station_id, payload))

    async def firmware(self, status: str, request_id: int = 0) -> None:
        await self.send(
            "firmware_status", ev.FirmwareStatusChanged(status=status, request_id=request_id)
        )

    async def boot(self, version: str) -> None:
        await self.send("booted", ev.StationBooted(firmware_version=version))


async def test_images_are_added_and_listed_by_vendor_and_model_with_paging(api: Api) -> None:
    stub = api.as_role()
    added = await stub.AddImage(pb.AddImageRequest(image=image()))
    assert added.id
    assert added.version == "2.0"
    assert added.created_at.seconds > 0
    await stub.AddImage(pb.AddImageRequest(image=image(model="", version="2.1")))
    await stub.AddImage(pb.AddImageRequest(image=image(vendor="Other")))
    listed = await stub.ListImages(pb.ListImagesRequest(vendor="Acme", model="Volt 16"))
    assert [i.version for i in listed.images] == ["2.0", "2.1"]
    first = await stub.ListImages(pb.ListImagesRequest(page={"page_size": 2}))
    assert len(first.images) == 2
    assert first.next_page_token
    rest = await stub.ListImages(
        pb.ListImagesRequest(page={"page_size": 2, "page_token": first.next_page_token})
    )
    assert [i.vendor for i in rest.images] == ["Other"]
    assert not rest.next_page_token
    viewer = api.as_role(Role.VIEWER)
    assert len((await viewer.ListImages(pb.ListImagesRequest())).images) == 3
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await viewer.AddImage(pb.AddImageRequest(image=image()))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_an_image_needs_a_version_and_a_location_and_a_unique_id(api: Api) -> None:
    stub = api.as_role()
    for bad in (image(version=""), image(location="")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.AddImage(pb.AddImageRequest(image=bad))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await stub.AddImage(pb.AddImageRequest(image=image(id="fw-1")))
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await stub.AddImage(pb.AddImageRequest(image=image(id="fw-1")))
    assert twice.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_an_update_is_sent_and_succeeds_when_the_next_boot_reports_the_version(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    stub = api.as_role()
    added = await stub.AddImage(
        pb.AddImageRequest(image=image(signing_certificate="PEM", signature="c2ln"))
    )
    gateway.control.online[STATION] = "Accepted"
    sent = await stub.UpdateStation(pb.UpdateStationRequest(station_id=STATION, image_id=added.id))
    assert (sent.state, sent.detail, sent.attempts) == (pb.UPDATE_STATE_IN_PROGRESS, "Accepted", 1)
    [command] = gateway.control.updates
    assert (command.location, command.request_id) == (added.location, sent.request_id)
    assert (command.signing_certificate, command.signature) == ("PEM", "c2ln")
    station = Station(db, clock)
    await station.firmware("Downloading", sent.request_id)
    await station.firmware("Installed", sent.request_id)
    current = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id=STATION))
    assert (current.state, current.detail) == (pb.UPDATE_STATE_IN_PROGRESS, "Installed")
    await station.boot("2.0")
    done = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id=STATION))
    assert (done.state, done.image_id) == (pb.UPDATE_STATE_SUCCEEDED, added.id)


async def test_a_boot_on_another_version_fails_the_update(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    stub = api.as_role()
    added = await stub.AddImage(pb.AddImageRequest(image=image()))
    gateway.control.online[STATION] = "Accepted"
    await stub.UpdateStation(pb.UpdateStationRequest(station_id=STATION, image_id=added.id))
    station = Station(db, clock)
    await station.firmware("Installed")  # 1.6: no request id
    await station.boot("1.9")
    done = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id=STATION))
    assert (done.state, done.detail) == (pb.UPDATE_STATE_FAILED, "version mismatch")


async def test_a_failure_status_fails_the_update_and_other_request_ids_are_ignored(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    stub = api.as_role()
    gateway.control.online[STATION] = "Accepted"
    sent = await stub.UpdateStation(
        pb.UpdateStationRequest(station_id=STATION, location="https://fw.example/x.bin")
    )
    station = Station(db, clock)
    await station.firmware("DownloadFailed", sent.request_id + 1)
    still = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id=STATION))
    assert still.state == pb.UPDATE_STATE_IN_PROGRESS
    await station.firmware("InvalidSignature", sent.request_id)
    done = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id=STATION))
    assert (done.state, done.detail) == (pb.UPDATE_STATE_FAILED, "InvalidSignature")


async def test_an_offline_or_refusing_station_fails_at_once(api: Api, gateway: Gateway) -> None:
    stub = api.as_role()
    offline = await stub.UpdateStation(
        pb.UpdateStationRequest(station_id="CP-gone", location="https://fw.example/x.bin")
    )
    assert (offline.state, offline.detail) == (pb.UPDATE_STATE_FAILED, "offline")
    gateway.control.online["CP-no"] = "Rejected"
    rejected = await stub.UpdateStation(
        pb.UpdateStationRequest(station_id="CP-no", location="https://fw.example/x.bin")
    )
    assert (rejected.state, rejected.detail) == (pb.UPDATE_STATE_FAILED, "rejected")


async def test_update_requests_are_validated(api: Api) -> None:
    stub = api.as_role()
    cases = [
        (pb.UpdateStationRequest(location="https://x"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.UpdateStationRequest(station_id=STATION), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.UpdateStationRequest(station_id=STATION, image_id="nope"), grpc.StatusCode.NOT_FOUND),
    ]
    for request, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UpdateStation(request)
        assert refused.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id="CP-none"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_security_events_are_stored_and_listed_with_filters(
    api: Api, db: Database, clock: FakeClock
) -> None:
    station = Station(db, clock)
    other = Station(db, clock, "CP-2")
    await station.send("security_event", ev.SecurityEventReceived(type="StartupOfTheDevice"))
    clock.advance(60)
    await station.send(
        "security_event",
        ev.SecurityEventReceived(type="TamperDetectionActivated", tech_info="lid open"),
    )
    await other.send("security_event", ev.SecurityEventReceived(type="StartupOfTheDevice"))
    stub = api.as_role(Role.VIEWER)
    mine = await stub.ListSecurityEvents(pb.ListSecurityEventsRequest(station_id=STATION))
    assert [(e.type, e.critical) for e in mine.events] == [
        ("StartupOfTheDevice", False),
        ("TamperDetectionActivated", True),
    ]
    assert mine.events[1].tech_info == "lid open"
    startups = await stub.ListSecurityEvents(
        pb.ListSecurityEventsRequest(type="StartupOfTheDevice")
    )
    assert [e.station_id for e in startups.events] == [STATION, "CP-2"]
    since = pb.ListSecurityEventsRequest(station_id=STATION)
    since.since.FromDatetime(clock.now)
    assert [e.type for e in (await stub.ListSecurityEvents(since)).events] == [
        "TamperDetectionActivated"
    ]
    paged = await stub.ListSecurityEvents(pb.ListSecurityEventsRequest(page={"page_size": 2}))
    assert len(paged.events) == 2
    assert paged.next_page_token
    rest = await stub.ListSecurityEvents(
        pb.ListSecurityEventsRequest(page={"page_size": 2, "page_token": paged.next_page_token})
    )
    assert [e.station_id for e in rest.events] == ["CP-2"]


async def test_a_redelivered_event_changes_nothing(
    api: Api, db: Database, clock: FakeClock
) -> None:
    station = Station(db, clock)
    envelope = station.factory.wrap(
        "station.security_event", STATION, ev.SecurityEventReceived(type="MemoryExhaustion")
    )
    await station.handler(envelope)
    await station.handler(envelope)
    listed = await api.as_role().ListSecurityEvents(pb.ListSecurityEventsRequest())
    assert len(listed.events) == 1


async def test_a_batch_of_boots_finishes_the_one_update_in_progress_and_leaves_the_rest(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    """A boot storm's batch: one station updating among many, a duplicate, a re-delivery."""
    stub = api.as_role()
    added = await stub.AddImage(pb.AddImageRequest(image=image()))
    gateway.control.online[STATION] = "Accepted"
    gateway.control.online["CP-7"] = "Accepted"
    await stub.UpdateStation(pb.UpdateStationRequest(station_id=STATION, image_id=added.id))
    await stub.UpdateStation(pb.UpdateStationRequest(station_id="CP-7", image_id=added.id))
    station = Station(db, clock)
    wrap = station.factory.wrap
    storm = [
        wrap("station.booted", f"CP-{n}", ev.StationBooted(firmware_version="1.9"))
        for n in range(100, 400)
    ]
    mine = wrap("station.booted", STATION, ev.StationBooted(firmware_version="2.0"))
    failed = wrap(
        "station.firmware_status", "CP-7", ev.FirmwareStatusChanged(status="InstallationFailed")
    )
    installed = wrap(
        "station.firmware_status", STATION, ev.FirmwareStatusChanged(status="Installed")
    )
    batch = [*storm[:150], installed, mine, mine, failed, *storm[150:]]
    await station.handler.batch([(envelope, None) for envelope in batch])  # type: ignore[misc]
    await station.handler.batch([(envelope, None) for envelope in batch])  # type: ignore[misc]
    done = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id=STATION))
    assert (done.state, done.image_id) == (pb.UPDATE_STATE_SUCCEEDED, added.id)
    other = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id="CP-7"))
    assert (other.state, other.detail) == (pb.UPDATE_STATE_FAILED, "InstallationFailed")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id="CP-100"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
