"""Log requests: a one-time upload URL sent through the gateway, the station's upload over
HTTP (as the simulator does it), status events, and the authenticated download."""

from __future__ import annotations

import asyncio
import hashlib

import aiohttp
import grpc
import pytest

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.platform.grpc import Role
from chargegrid.simulator.http_transfer import upload
from tests.integration.firmware.conftest import Api, Database, FakeClock, Gateway
from tests.integration.firmware.test_updates_api import STATION, Station

BODY = b"2026-11-02T08:00:00Z boot\n2026-11-02T08:00:01Z connected\n"


async def request_logs(api: Api, gateway: Gateway, kind: str = "diagnostics") -> pb.LogFile:
    gateway.control.online[STATION] = "Accepted"
    return await api.as_role().RequestLogs(pb.RequestLogsRequest(station_id=STATION, kind=kind))


async def station_upload(location: str, method: str = "PUT", name: str = "cp.log") -> bool:
    return await asyncio.to_thread(upload, location, name, BODY, method=method, timeout_s=5)


async def test_a_requested_log_is_uploaded_once_and_downloaded_with_a_token(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    requested = await request_logs(api, gateway, "security")
    assert (requested.status, requested.kind, requested.download_url) == (
        "Requested",
        "security",
        "",
    )
    [command] = gateway.control.log_requests
    assert command.kind == "security"
    assert command.request_id == requested.request_id
    assert command.location.startswith(f"{api.base_url}/uploads/")
    assert command.location.endswith("/")
    station = Station(db, clock)
    await station.send(
        "log_status", ev.LogStatusChanged(status="Uploading", request_id=requested.request_id)
    )
    assert await station_upload(command.location, "POST")
    assert not await station_upload(command.location, "PUT")  # single use
    await station.send(
        "log_status", ev.LogStatusChanged(status="Uploading", request_id=requested.request_id)
    )  # late: never undoes the upload
    [listed] = (await api.as_role(Role.VIEWER).ListLogs(pb.ListLogsRequest())).logs
    assert (listed.status, listed.file_name, listed.size_bytes) == ("Uploaded", "cp.log", len(BODY))
    assert listed.sha256 == hashlib.sha256(BODY).hexdigest()
    assert listed.download_url == f"{api.base_url}/logs/{listed.id}"
    async with aiohttp.ClientSession() as http:
        bearer = {"Authorization": f"Bearer {api.tokens[Role.VIEWER]}"}
        async with http.get(listed.download_url, headers=bearer) as response:
            assert response.status == 200
            assert await response.read() == BODY
        async with http.get(listed.download_url) as response:
            assert response.status == 401
        async with http.get(listed.download_url, headers={"Authorization": "Bearer no"}) as r:
            assert r.status == 401
        async with http.get(f"{api.base_url}/logs/nope", headers=bearer) as response:
            assert response.status == 404


async def test_upload_answers_404_for_unknown_and_410_for_used_tokens(
    api: Api, gateway: Gateway
) -> None:
    await request_logs(api, gateway)
    [command] = gateway.control.log_requests
    async with aiohttp.ClientSession() as http:
        async with http.put(f"{api.base_url}/uploads/unknown/x.log", data=BODY) as response:
            assert response.status == 404
        form = aiohttp.FormData()
        form.add_field("whatever", BODY, filename="diag.zip")
        async with http.post(f"{command.location}diag.zip", data=form) as response:
            assert response.status == 201
        async with http.put(f"{command.location}again.log", data=BODY) as response:
            assert response.status == 410
    [listed] = (await api.as_role().ListLogs(pb.ListLogsRequest(station_id=STATION))).logs
    assert (listed.file_name, listed.size_bytes) == ("diag.zip", len(BODY))
    assert (api.uploads_dir / f"{listed.id}-diag.zip").read_bytes() == BODY


async def test_file_names_cannot_leave_the_uploads_directory(api: Api, gateway: Gateway) -> None:
    await request_logs(api, gateway)
    [command] = gateway.control.log_requests
    assert not await station_upload(command.location, name="..%2F..%2Fescape.log")
    assert not api.uploads_dir.exists() or list(api.uploads_dir.iterdir()) == []
    assert await station_upload(command.location, name="..cp.log")
    [listed] = (await api.as_role().ListLogs(pb.ListLogsRequest())).logs
    assert listed.file_name == "cp.log"
    assert [p.name for p in api.uploads_dir.iterdir()] == [f"{listed.id}-cp.log"]


async def test_log_statuses_follow_the_station(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    requested = await request_logs(api, gateway)
    station = Station(db, clock)
    await station.send(
        "log_status", ev.LogStatusChanged(status="UploadFailed", request_id=requested.request_id)
    )
    [listed] = (await api.as_role().ListLogs(pb.ListLogsRequest())).logs
    assert listed.status == "UploadFailed"
    assert listed.download_url == ""


async def test_an_offline_station_is_refused_and_a_rejection_is_recorded(
    api: Api, gateway: Gateway
) -> None:
    stub = api.as_role()
    with pytest.raises(grpc.aio.AioRpcError) as offline:
        await stub.RequestLogs(pb.RequestLogsRequest(station_id="CP-gone"))
    assert offline.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as bad_kind:
        await stub.RequestLogs(pb.RequestLogsRequest(station_id=STATION, kind="audit"))
    assert bad_kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    gateway.control.online[STATION] = "Rejected"
    rejected = await stub.RequestLogs(pb.RequestLogsRequest(station_id=STATION))
    assert rejected.status == "Rejected"
    [listed] = (await stub.ListLogs(pb.ListLogsRequest())).logs
    assert listed.id == rejected.id
    location = gateway.control.log_requests[-1].location
    assert not await station_upload(location)  # a rejected request takes no upload
