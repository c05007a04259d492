"""Site time zones and token groups come from fake stations and authorization servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargegrid.api.authorization.v1 import authorization_pb2_grpc as auth_grpc
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc
from chargegrid.billing.lookups import GrpcLookups
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from tests.integration.billing.builders import FakeAuthorization, FakeStations


@pytest.fixture
async def fakes(tmp_path: Path) -> AsyncIterator[tuple[FakeStations, FakeAuthorization, str, str]]:
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("billing", Role.SERVICE)
    stations = FakeStations(
        {"CP-1": "S1", "CP-2": "S2"}, {"S1": "Europe/Berlin", "S2": "Mars/Base"}
    )
    authorization = FakeAuthorization({"TAG-1": "FLEET"})
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(
        st_grpc.add_StationsServicer_to_server, stations, "chargegrid.api.stations.v1.Stations"
    )
    server.add(
        auth_grpc.add_AuthorizationServicer_to_server,
        authorization,
        "chargegrid.api.authorization.v1.Authorization",
    )
    port = await server.start()
    yield stations, authorization, f"127.0.0.1:{port}", token
    await server.stop(0.1)


async def test_zones_and_groups_are_looked_up_once_and_unknowns_are_utc(
    fakes: tuple[FakeStations, FakeAuthorization, str, str],
) -> None:
    stations, _, target, token = fakes
    channel = create_channel(target, token=token, max_attempts=1)
    lookups = GrpcLookups(channel, channel, ttl_s=60)
    try:
        assert await lookups.site_and_timezone("CP-1", "") == ("S1", "Europe/Berlin")
        assert await lookups.site_and_timezone("CP-1", "") == ("S1", "Europe/Berlin")
        assert stations.calls == 2  # one GetStation, one GetSite
        assert await lookups.site_and_timezone("CP-2", "") == ("S2", "UTC")  # unknown zone name
        assert await lookups.site_and_timezone("CP-404", "") == ("", "UTC")
        assert await lookups.token_group("TAG-1") == "FLEET"
        assert await lookups.token_group("TAG-404") == ""
    finally:
        await channel.close()


async def test_an_unreachable_service_is_not_taken_for_an_answer() -> None:
    channel = create_channel("127.0.0.1:1", max_attempts=1, default_timeout_s=0.5)
    lookups = GrpcLookups(channel, channel, timeout_s=0.5)
    try:
        assert await lookups.site_and_timezone("CP-1", "") is None
        assert await lookups.token_group("TAG-1") is None
    finally:
        await channel.close()
