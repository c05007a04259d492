"""The presence directory keeps the newest connection of each station, whatever the order."""

from chargegrid.api.gateway.v1.presence_pb2 import StationPresence
from chargegrid.gateway.presence import PresenceDirectory


def a_presence(pod: str, seq: int, *, online: bool = True) -> StationPresence:
    return StationPresence(station_id="CP1", gateway_pod=pod, connection_seq=seq, online=online)


def test_a_newer_connection_wins_even_when_it_arrives_first() -> None:
    directory = PresenceDirectory()
    directory.apply(a_presence("gw-b", 200))
    assert not directory.apply(a_presence("gw-a", 100))  # stale: the station moved to gw-b
    assert not directory.apply(a_presence("gw-a", 100, online=False))
    owner = directory.owner("CP1")
    assert owner is not None
    assert owner.gateway_pod == "gw-b"


def test_the_close_of_a_connection_outranks_its_own_announcement() -> None:
    directory = PresenceDirectory()
    directory.apply(a_presence("gw-a", 100, online=False))
    assert not directory.apply(a_presence("gw-a", 100))
    assert directory.owner("CP1") is None


def test_online_lists_only_connected_stations() -> None:
    directory = PresenceDirectory()
    directory.apply(a_presence("gw-a", 100))
    directory.apply(
        StationPresence(station_id="CP2", gateway_pod="gw-a", connection_seq=5, online=True)
    )
    directory.apply(
        StationPresence(station_id="CP2", gateway_pod="gw-a", connection_seq=5, online=False)
    )
    assert [p.station_id for p in directory.online()] == ["CP1"]
