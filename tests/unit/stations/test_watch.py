"""Watch updates: the presence rules of the registry, filters, and slow watchers."""

import pytest

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.live import WatcherTooSlow
from chargegrid.stations.watch import StatusHub, UpdateTranslator

FACTORY = EnvelopeFactory("gateway/test")


async def site_of(station_id: str) -> str:
    return "site-1" if station_id.startswith("A") else "site-2"


async def test_a_disconnect_from_a_pod_that_no_longer_holds_the_station_is_not_news() -> None:
    translate = UpdateTranslator(site_of)
    kinds = []
    for kind, payload in [
        ("connected", ev.StationConnected(gateway_pod="gw-a")),
        ("connected", ev.StationConnected(gateway_pod="gw-b")),
        ("disconnected", ev.StationDisconnected(gateway_pod="gw-a", close_code=1006)),
        ("disconnected", ev.StationDisconnected(gateway_pod="gw-b", close_code=4000)),
        ("disconnected", ev.StationDisconnected(gateway_pod="gw-b", close_code=1000)),
        ("heartbeat", ev.HeartbeatReceived()),
    ]:
        update = await translate(FACTORY.wrap(f"station.{kind}", "A1", payload))
        kinds.append(update.kind if update else None)
    assert kinds == ["online", "online", None, None, "offline", None]


async def test_with_nobody_watching_no_site_is_looked_up_but_pods_are_still_followed() -> None:
    looked_up: list[str] = []
    watching = False

    async def site(station_id: str) -> str:
        looked_up.append(station_id)
        return "site-1"

    translate = UpdateTranslator(site, lambda: watching)
    connect_b = ev.StationConnected(gateway_pod="gw-b")
    assert await translate(FACTORY.wrap("station.connected", "A1", connect_b)) is None
    watching = True
    old_pod_closed = ev.StationDisconnected(gateway_pod="gw-a", close_code=1006)
    assert await translate(FACTORY.wrap("station.disconnected", "A1", old_pod_closed)) is None
    closed = ev.StationDisconnected(gateway_pod="gw-b", close_code=1000)
    update = await translate(FACTORY.wrap("station.disconnected", "A1", closed))
    assert update is not None
    assert (update.kind, looked_up) == ("offline", ["A1"])


async def test_status_updates_carry_the_connector_and_the_site() -> None:
    translate = UpdateTranslator(site_of)
    update = await translate(
        FACTORY.wrap(
            "station.status_changed",
            "A1",
            ev.StatusChanged(evse_id=1, connector_id=2, status=3, error_code="NoError"),
        )
    )
    assert update is not None
    assert (update.site_id, update.evse_id, update.connector_id, update.status) == (
        "site-1",
        1,
        2,
        3,
    )


async def test_watchers_get_only_what_they_asked_for() -> None:
    hub = StatusHub()
    by_site = hub.subscribe(site_id="site-2")
    by_station = hub.subscribe(station_id="A1")
    for station, site in [("A1", "site-1"), ("B1", "site-2")]:
        hub.publish(pb.StatusUpdate(station_id=station, site_id=site, kind="online"))
    assert (await by_site.next()).station_id == "B1"
    assert (await by_station.next()).station_id == "A1"
    assert by_site.queue.empty()
    assert by_station.queue.empty()


async def test_a_watcher_that_falls_behind_is_cut_off_not_waited_for() -> None:
    hub = StatusHub()
    slow = hub.subscribe()
    for n in range(slow.queue.maxsize + 1):
        hub.publish(pb.StatusUpdate(station_id=f"S{n}"))
    assert len(hub) == 0
    with pytest.raises(WatcherTooSlow):
        await slow.next()
