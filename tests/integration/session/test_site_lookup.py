"""Site ids from the stations service: cached, and empty (quickly) when unknown or unreachable."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import grpc

from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.session.sites import StationSites


class FakeStations(st_grpc.StationsServicer):
    def __init__(self) -> None:
        self.calls = 0

    async def GetStation(self, request: Any, context: Any) -> st.Station:
        self.calls += 1
        if request.station_id != "CP-1":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such station")
        return st.Station(id="CP-1", site_id="site-7")


async def test_a_site_is_asked_once_then_cached_and_unknown_stations_have_none(
    tmp_path: Path,
) -> None:
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("session", Role.SERVICE)
    fake = FakeStations()
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(st_grpc.add_StationsServicer_to_server, fake, "chargegrid.api.stations.v1.Stations")
    port = await server.start()
    channel = create_channel(f"127.0.0.1:{port}", token=token, max_attempts=1)
    try:
        sites = StationSites(channel, timeout_s=1.0)
        assert await sites("CP-1") == "site-7"
        assert await sites("CP-1") == "site-7"
        assert await sites("CP-404") == ""
        assert fake.calls == 2
    finally:
        await channel.close()
        await server.stop(0.1)


async def test_an_unreachable_stations_service_gives_no_site_without_blocking_long() -> None:
    channel = create_channel("127.0.0.1:1", max_attempts=1)
    try:
        sites = StationSites(channel, timeout_s=0.5)
        began = time.monotonic()
        assert await sites("CP-1") == ""
        assert await sites("CP-1") == ""  # the failure is cached too
        assert time.monotonic() - began < 2
    finally:
        await channel.close()
