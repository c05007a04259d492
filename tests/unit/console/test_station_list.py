"""The station list from the live mirror: filters, search, paging, and records kept current."""

from __future__ import annotations

import asyncio

from chargegrid.api.stations.v1 import stations_pb2
from tests.unit.console.fakes import Console
from tests.unit.console.test_live import CHARGING, FAULTED, NOW, _load, a_station


async def _current(console: Console) -> None:
    await _load(console)
    console.mirror.status_stream_open = True  # as _watch_status sets it


def _ids(console: Console, query: str = "") -> tuple[list[str], str, int]:
    body = console.client.get(f"/api/v1/stations{query}", headers=console.headers("viewer")).json()
    return [s["id"] for s in body["stations"]], body["next_page_token"], body["total"]


async def test_the_list_is_answered_from_the_mirror_with_filters_and_search(
    console: Console,
) -> None:
    await _current(console)
    asked = len(console.calls("stations"))
    assert _ids(console) == (["CP1", "CP2", "CP3", "CP4"], "", 4)
    assert _ids(console, "?online=false") == (["CP3", "CP4"], "", 2)
    assert _ids(console, "?status=Faulted") == (["CP2"], "", 1)
    assert _ids(console, "?q=cp3") == (["CP3"], "", 1)
    assert _ids(console, "?site_id=s1&online=true") == (["CP1", "CP2"], "", 2)
    assert _ids(console, "?vendor=Nobody") == ([], "", 0)
    assert len(console.calls("stations")) == asked  # no gRPC call for any of them


async def test_mirror_pages_resume_after_the_last_id_and_count_all(console: Console) -> None:
    await _current(console)
    first, token, total = _ids(console, "?page_size=3")
    assert (first, total) == (["CP1", "CP2", "CP3"], 4)
    assert token.startswith("m:")
    assert _ids(console, f"?page_size=3&page_token={token}") == (["CP4"], "", 4)


async def test_a_record_is_json_format_shaped_and_follows_status_updates(
    console: Console,
) -> None:
    await _current(console)
    listed = console.client.get("/api/v1/stations", headers=console.headers("viewer")).json()
    assert listed["stations"][0]["evses"][0]["connectors"][0]["status"] == (
        "CONNECTOR_STATUS_CHARGING"
    )
    update = stations_pb2.StatusUpdate(
        station_id="CP1", site_id="s1", evse_id=1, connector_id=1, status=FAULTED,
        error_code="GroundFailure", online=True, kind="status",
    )  # fmt: skip
    update.occurred_at.FromDatetime(NOW)
    console.mirror.apply_status(update)
    assert _ids(console, "?status=Faulted")[0] == ["CP1", "CP2"]
    connector = console.client.get(
        "/api/v1/stations?q=cp1", headers=console.headers("viewer")
    ).json()["stations"][0]["evses"][0]["connectors"][0]
    assert (connector["status"], connector["error_code"]) == (
        "CONNECTOR_STATUS_FAULTED",
        "GroundFailure",
    )
    assert connector["status_at"] == "2026-12-07T12:00:00Z"


async def test_a_station_the_mirror_did_not_know_is_read_and_listed(console: Console) -> None:
    await _current(console)
    console.stubs["stations"].replies["GetStation"] = a_station("CP9", status=CHARGING)
    reader = asyncio.create_task(console.mirror._read_stations())
    console.mirror.apply_status(
        stations_pb2.StatusUpdate(station_id="CP9", site_id="s1", online=True, kind="online")
    )
    await asyncio.wait_for(reader, 5)
    assert [c.request.station_id for c in console.calls("stations")[-1:]] == ["CP9"]
    assert _ids(console)[0] == ["CP1", "CP2", "CP3", "CP4", "CP9"]


async def test_the_service_answers_while_the_status_stream_is_down(console: Console) -> None:
    await _current(console)
    console.mirror.errors["station-watch"] = "connection refused"
    console.stubs["stations"].replies["ListStations"] = stations_pb2.ListStationsReply(
        stations=[a_station("CP1")], total=1
    )
    assert _ids(console) == (["CP1"], "", 1)
    assert console.calls("stations")[-1].method == "ListStations"


async def test_a_connected_station_is_read_again_at_its_first_status(console: Console) -> None:
    await _current(console)
    booted = a_station("CP1")
    booted.firmware_version = "2.0"
    console.stubs["stations"].replies["GetStation"] = booted
    status = stations_pb2.StatusUpdate(
        station_id="CP1", evse_id=1, connector_id=1, status=CHARGING, online=True,
        kind="status",
    )  # fmt: skip

    def reads() -> int:
        return sum(c.method == "GetStation" for c in console.calls("stations"))

    console.mirror.apply_status(
        stations_pb2.StatusUpdate(station_id="CP1", online=True, kind="online")
    )
    await asyncio.wait_for(console.mirror._read_stations(), 5)  # the connect
    console.mirror.apply_status(status)
    await asyncio.wait_for(console.mirror._read_stations(), 5)  # the first status after it
    assert reads() == 2
    console.mirror.apply_status(status)  # later statuses change the record in place
    assert not console.mirror._to_read
    listed = console.client.get("/api/v1/stations?q=cp1", headers=console.headers("viewer"))
    assert listed.json()["stations"][0]["firmware_version"] == "2.0"
