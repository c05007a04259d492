"""Maintenance windows read on each station's wall clock: its site's time zone, else UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.firmware.models import StationUpdateRow
from tests.integration.firmware.conftest import Api, Database, FakeClock, Gateway, Peers
from tests.integration.firmware.test_updates_api import image

STATIONS = ["CP-TOKYO", "CP-BERLIN", "CP-NOSITE"]


async def test_each_station_starts_in_its_own_local_window(
    api: Api, gateway: Gateway, peers: Peers, db: Database, clock: FakeClock
) -> None:
    peers.stations.add_site("TYO", "Asia/Tokyo")
    peers.stations.add_site("BER", "Europe/Berlin")
    peers.stations.add_station("CP-TOKYO", "TYO")
    peers.stations.add_station("CP-BERLIN", "BER")
    peers.stations.add_station("CP-NOSITE")
    for station_id in STATIONS:
        gateway.control.online[station_id] = "Accepted"
    stub = api.as_role()
    added = await stub.AddImage(pb.AddImageRequest(image=image()))
    campaign = pb.Campaign(
        image_id=added.id,
        target=pb.CampaignTarget(station_ids=STATIONS),
        max_in_flight=3,
        window_start="02:00",
        window_end="04:00",
        station_timeout_s=86_400,
    )
    await stub.CreateCampaign(pb.CreateCampaignRequest(campaign=campaign))
    async with db.sessions() as session:
        rows = (await session.scalars(select(StationUpdateRow))).all()
    assert {r.station_id: r.timezone for r in rows} == {
        "CP-TOKYO": "Asia/Tokyo",
        "CP-BERLIN": "Europe/Berlin",
        "CP-NOSITE": None,
    }

    def sent() -> list[str]:
        return [u.station_id for u in gateway.control.updates]

    clock.now = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)  # Tokyo 03:00, Berlin 19:00
    await api.runner.tick()
    assert sent() == ["CP-TOKYO"]
    clock.now = datetime(2026, 11, 3, 1, 30, tzinfo=UTC)  # Tokyo 10:30, Berlin 02:30
    await api.runner.tick()
    assert sent() == ["CP-TOKYO", "CP-BERLIN"]
    clock.now = datetime(2026, 11, 3, 2, 30, tzinfo=UTC)  # no site: UTC 02:30
    await api.runner.tick()
    assert sent() == ["CP-TOKYO", "CP-BERLIN", "CP-NOSITE"]
