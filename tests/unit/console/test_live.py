"""The live mirror (full reads + watch updates), the overview computed from it, the hub."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from chargegrid.api.session.v1 import session_pb2
from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.stations.v1 import stations_pb2
from chargegrid.console.hub import Hub, LiveEvent
from tests.unit.console.fakes import Console

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
FAULTED = station_events.CONNECTOR_STATUS_FAULTED
CHARGING = station_events.CONNECTOR_STATUS_CHARGING


def a_station(station_id: str, *, online: bool = True, status: int = CHARGING,
              seen_minutes_ago: float = 0) -> stations_pb2.Station:  # fmt: skip
    station = stations_pb2.Station(id=station_id, site_id="s1", online=online)
    station.last_seen.FromDatetime(NOW - timedelta(minutes=seen_minutes_ago))
    evse = station.evses.add(evse_id=1)
    evse.connectors.add(connector_id=1, status=status)
    return station


def a_session(session_id: str, power_w: float, energy_wh: float) -> session_pb2.Session:
    return session_pb2.Session(
        id=session_id, station_id=session_id.split(":")[0], site_id="s1",
        power_w=power_w, energy_wh=energy_wh,
    )  # fmt: skip


def _pages(*pages: list[stations_pb2.Station]):  # type: ignore[no-untyped-def]
    replies = iter(
        stations_pb2.ListStationsReply(
            stations=page, next_page_token="" if i == len(pages) - 1 else f"p{i + 1}"
        )
        for i, page in enumerate(pages)
    )
    return lambda: next(replies)


async def _load(console: Console) -> None:
    console.mirror.clock = lambda: NOW
    console.stubs["stations"].replies["ListStations"] = _pages(
        [a_station("CP1"), a_station("CP2", status=FAULTED)],
        [a_station("CP3", online=False, seen_minutes_ago=30),
         a_station("CP4", online=False, seen_minutes_ago=2)],
    )  # fmt: skip
    console.stubs["session"].replies["ActiveSessions"] = session_pb2.ListSessionsReply(
        sessions=[a_session("CP1:1", 7400, 5000), a_session("CP2:9", 3600, 1000)]
    )
    console.stubs["session"].replies["ListSessions"] = session_pb2.ListSessionsReply(
        sessions=[a_session("CP1:1", 7400, 5000), a_session("CP4:2", 0, 12500)]
    )
    await console.mirror._resync_stations()
    await console.mirror._resync_sessions()
    await console.mirror._refresh_energy()


async def test_the_overview_counts_what_the_mirror_read(console: Console) -> None:
    await _load(console)
    response = console.client.get("/api/v1/overview", headers=console.headers("viewer"))
    body = response.json()
    assert {k: body[k] for k in ("stations_total", "stations_online", "stations_offline",
                                 "stations_faulted", "charging_now")} == {
        "stations_total": 4, "stations_online": 2, "stations_offline": 2,
        "stations_faulted": 1, "charging_now": 2,
    }  # fmt: skip
    assert body["power_now_kw"] == 11.0
    assert body["energy_today_kwh"] == 17.5
    # CP3 is offline for 30 min (> 10), CP4 only for 2: only CP3 and the faulted CP2 alert.
    assert sorted((a["station_id"], a["kind"]) for a in body["alerts"]) == [
        ("CP2", "faulted"),
        ("CP3", "offline"),
    ]
    tight = console.client.get(
        "/api/v1/overview?offline_minutes=1", headers=console.headers("viewer")
    ).json()
    assert {a["station_id"] for a in tight["alerts"]} == {"CP2", "CP3", "CP4"}


async def test_the_mirror_reads_with_the_consoles_service_token(console: Console) -> None:
    await _load(console)
    listed = console.calls("stations")
    assert [c.request.page.page_token for c in listed] == ["", "p1"]
    assert ("authorization", f"Bearer {console.tokens['service']}") in listed[0].metadata
    since = console.calls("session")[-1].request.since.ToDatetime(UTC)
    assert since == NOW.replace(hour=0)


@pytest.mark.parametrize("minutes", ["525601", "144000000000", "inf", "nan"])
async def test_an_offline_threshold_beyond_a_year_is_a_422_problem(
    console: Console, minutes: str
) -> None:
    await _load(console)
    response = console.client.get(
        f"/api/v1/overview?offline_minutes={minutes}", headers=console.headers("viewer")
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_year_offline_is_still_a_threshold(console: Console) -> None:
    await _load(console)
    response = console.client.get(
        "/api/v1/overview?offline_minutes=525600", headers=console.headers("viewer")
    )

    assert response.status_code == 200
    assert {a["station_id"] for a in response.json()["alerts"]} == {"CP2"}


def test_the_overview_is_503_until_the_stations_are_read(console: Console) -> None:
    console.mirror.errors["stations"] = "connection refused"
    response = console.client.get("/api/v1/overview", headers=console.headers("viewer"))
    assert response.status_code == 503
    assert response.json()["service"] == "stations"
    assert "connection refused" in response.json()["detail"]


async def test_a_status_update_changes_the_station_and_reaches_subscribers(
    console: Console,
) -> None:
    await _load(console)
    sub = console.mirror.hub.subscribe(frozenset({"station"}), station_id="CP1")
    update = stations_pb2.StatusUpdate(
        station_id="CP1", site_id="s1", evse_id=1, connector_id=1, status=FAULTED, online=True
    )
    update.occurred_at.FromDatetime(NOW)
    console.mirror.apply_status(update)
    console.mirror.apply_status(stations_pb2.StatusUpdate(station_id="CP2", online=True))
    assert console.mirror.stations["CP1"].faulted
    event = sub.queue.get_nowait()
    assert (event.kind, event.data["status"]) == ("station.status", "CONNECTOR_STATUS_FAULTED")
    assert sub.queue.empty()  # CP2 is not this subscriber's station
    history = console.client.get(
        "/api/v1/stations/CP1/status-history", headers=console.headers("viewer")
    ).json()
    assert [c["status"] for c in history["changes"]] == ["CONNECTOR_STATUS_FAULTED"]
    console.mirror.hub.unsubscribe(sub)


async def test_a_closed_session_leaves_the_live_view(console: Console) -> None:
    await _load(console)
    sub = console.mirror.hub.subscribe(frozenset({"session"}))
    closed = session_pb2.SessionChange(kind="closed", session=a_session("CP1:1", 0, 9000))
    console.mirror.apply_session(closed)
    assert "CP1:1" not in console.mirror.sessions
    event = sub.queue.get_nowait()
    assert (event.kind, event.data["energy_wh"]) == ("session.closed", 9000.0)
    console.mirror.hub.unsubscribe(sub)


async def test_the_live_sessions_come_from_the_mirror_while_its_stream_is_open(
    console: Console,
) -> None:
    await _load(console)
    console.mirror.session_stream_open = True  # as _watch_sessions sets it
    later = a_session("CP3:5", 1000, 10)
    later.started_at.FromDatetime(NOW)
    earlier = a_session("CP3:4", 2000, 20)
    earlier.started_at.FromDatetime(NOW - timedelta(hours=1))
    for session in (later, earlier):
        console.mirror.apply_session(session_pb2.SessionChange(kind="opened", session=session))
    asked = len(console.calls("session"))
    viewer = console.headers("viewer")
    body = console.client.get("/api/v1/sessions?active=true", headers=viewer).json()
    assert len(console.calls("session")) == asked  # no gRPC call
    assert body["total"] == 4
    assert body["next_page_token"] == ""
    assert [s["id"] for s in body["sessions"]][:2] == ["CP1:1", "CP2:9"]  # no start: first
    assert [s["id"] for s in body["sessions"]][2:] == ["CP3:4", "CP3:5"]  # oldest first
    one = console.client.get("/api/v1/sessions?active=true&station_id=CP3", headers=viewer)
    assert [s["id"] for s in one.json()["sessions"]] == ["CP3:4", "CP3:5"]
    assert console.client.get(
        "/api/v1/sessions?active=true&site_id=elsewhere", headers=viewer
    ).json() == {"sessions": [], "next_page_token": "", "total": 0}


async def test_the_live_sessions_come_from_the_service_when_the_stream_is_down(
    console: Console,
) -> None:
    await _load(console)
    console.mirror.session_stream_open = True
    console.mirror.errors["session-watch"] = "connection refused"
    asked = len(console.calls("session"))
    body = console.client.get(
        "/api/v1/sessions?active=true", headers=console.headers("viewer")
    ).json()
    assert [c.method for c in console.calls("session")[asked:]] == ["ActiveSessions"]
    assert [s["id"] for s in body["sessions"]] == ["CP1:1", "CP2:9"]


async def test_a_slow_client_is_dropped_and_the_others_keep_getting_events() -> None:
    hub = Hub(queue_size=3)
    slow = hub.subscribe(frozenset({"station"}))
    fast = hub.subscribe(frozenset({"station"}))
    for i in range(5):
        hub.publish(LiveEvent("station.status", {"i": i}))
        fast.queue.get_nowait()
    assert slow.dropped.is_set()
    assert hub.clients == 1
    assert hub.dropped_total == 1
    assert slow.queue.qsize() == 3  # bounded: never more than its queue
    hub.publish(LiveEvent("station.status", {"i": 5}))
    assert fast.queue.get_nowait().data == {"i": 5}
    await asyncio.sleep(0)


async def test_the_mirror_backs_off_and_records_a_failing_part(console: Console) -> None:
    import grpc

    from tests.unit.console.fakes import rpc_error

    console.stubs["stations"].replies["ListStations"] = rpc_error(grpc.StatusCode.UNAVAILABLE)
    task = asyncio.create_task(
        console.mirror._forever("stations", console.mirror._resync_stations, 60)
    )
    for _ in range(100):
        if "stations" in console.mirror.errors:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert "unavailable" in console.mirror.errors["stations"]
    assert "stations" not in console.mirror.loaded


async def test_the_overview_is_computed_once_per_cache_period(console: Console) -> None:
    await _load(console)
    console.mirror.overview_cache_s = 60
    try:
        first = console.client.get("/api/v1/overview", headers=console.headers("viewer")).json()
        console.mirror.stations.clear()
        again = console.client.get("/api/v1/overview", headers=console.headers("viewer")).json()
        assert again == first  # served from the cache, not recomputed
    finally:
        console.mirror.overview_cache_s = 0
