"""What a station must present: asked of the stations service, cached, failing closed."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as pb_grpc
from chargegrid.gateway.requirements import FileRequirements, ServiceRequirements
from chargegrid.platform.grpc.client import create_channel


class FakeStations(pb_grpc.StationsServicer):
    def __init__(self) -> None:
        self.profiles = {"CP-PW": 1, "CP-MTLS": 3}
        self.asked = 0

    async def GetStationSecurity(self, request: Any, context: Any) -> pb.StationSecurity:
        self.asked += 1
        profile = self.profiles.get(request.station_id)
        if profile is None:
            return pb.StationSecurity(known=False)
        return pb.StationSecurity(known=True, required_security_profile=profile)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeStations, grpc.aio.Server, int]]:
    fake = FakeStations()
    server = grpc.aio.server()
    pb_grpc.add_StationsServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield fake, server, port
    await server.stop(0)


async def test_the_service_says_what_each_station_needs_and_is_asked_once_per_ttl(
    served: tuple[FakeStations, grpc.aio.Server, int],
) -> None:
    fake, _, port = served
    clock = Clock()
    channel = create_channel(f"127.0.0.1:{port}", max_attempts=1)
    requirements = ServiceRequirements(channel, timeout_s=1, cache_ttl_s=30, clock=clock)
    assert await requirements.required_profile("CP-MTLS") == 3
    assert await requirements.required_profile("CP-MTLS") == 3
    assert await requirements.required_profile("CP-UNKNOWN") == 0
    assert fake.asked == 2
    fake.profiles["CP-MTLS"] = 2  # never lowered in reality; here it shows the refresh
    clock.now = 31
    assert await requirements.required_profile("CP-MTLS") == 2
    await channel.close()


async def test_while_the_service_is_away_the_last_answer_counts_then_it_fails_closed(
    served: tuple[FakeStations, grpc.aio.Server, int],
) -> None:
    _, server, port = served
    clock = Clock()
    channel = create_channel(f"127.0.0.1:{port}", max_attempts=1)
    requirements = ServiceRequirements(
        channel, timeout_s=0.5, cache_ttl_s=0, stale_ttl_s=100, clock=clock
    )
    assert await requirements.required_profile("CP-PW") == 1
    await server.stop(0)
    assert await requirements.required_profile("CP-PW") == 1
    assert await requirements.required_profile("CP-NEVER-ASKED") is None
    clock.now = 101
    assert await requirements.required_profile("CP-PW") is None
    await channel.close()


async def test_a_station_in_the_credentials_file_needs_basic(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"CP-PW": "pbkdf2_sha256$1$x$y"}))
    requirements = FileRequirements(path)
    assert await requirements.required_profile("CP-PW") == 1
    assert await requirements.required_profile("CP-OTHER") == 0
    path.write_text("{not json")
    os.utime(path, (1, 1))  # a changed file, whatever the clock's resolution
    assert await requirements.required_profile("CP-PW") is None
