"""The stations and session ports over gRPC when their service cannot be reached, or is not
configured at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from chargegrid.firmware.charging import GrpcChargingSessions, SessionsUnavailable
from chargegrid.firmware.stations import (
    LOOKUPS_IN_FLIGHT,
    GrpcStationDirectory,
    Located,
    Selection,
    StationsUnavailable,
)
from chargegrid.platform.embedded_broker import free_port
from chargegrid.platform.grpc import create_channel
from tests.integration.firmware.conftest import Peers


@pytest.fixture
async def nobody() -> AsyncIterator[grpc.aio.Channel]:
    """A channel to a port nothing listens on."""
    channel = create_channel(f"127.0.0.1:{free_port()}", max_attempts=1, default_timeout_s=2)
    yield channel
    await channel.close()


async def test_an_unreachable_stations_service_is_unavailable(
    nobody: grpc.aio.Channel,
) -> None:
    directory = GrpcStationDirectory(nobody, timeout_s=2)
    with pytest.raises(StationsUnavailable, match="stations service unavailable"):
        await directory.matching(Selection(site_id="S1"))
    with pytest.raises(StationsUnavailable):
        await directory.locate(["CP-1"])


async def test_an_unreachable_session_service_is_unavailable(nobody: grpc.aio.Channel) -> None:
    with pytest.raises(SessionsUnavailable, match="session service unavailable"):
        await GrpcChargingSessions(nobody, timeout_s=2).in_session("CP-1")


async def test_without_addresses_no_selection_no_zone_and_no_session() -> None:
    directory = GrpcStationDirectory(None)
    with pytest.raises(StationsUnavailable, match="no stations service is configured"):
        await directory.matching(Selection(vendor="Acme"))
    assert await directory.locate(["CP-1"]) == [Located("CP-1")]
    assert await GrpcChargingSessions(None).in_session("CP-1") is False


async def test_many_named_stations_are_located_concurrently_in_their_order(peers: Peers) -> None:
    for n, zone in enumerate(["Europe/Paris", "America/New_York", ""]):
        peers.stations.add_site(f"S{n}", zone)
    named = [f"CP-{n:03d}" for n in range(200)]
    for n, station_id in enumerate(named):
        peers.stations.add_station(station_id, site_id=f"S{n % 3}")
    peers.stations.lookup_delay_s = 0.005
    channel = create_channel(peers.target, token=peers.token, max_attempts=1)
    try:
        located = await GrpcStationDirectory(channel, timeout_s=5).locate([*named, "CP-NONE"])
    finally:
        await channel.close()
    zones = ["Europe/Paris", "America/New_York", None]
    assert located == [Located(s, zones[n % 3]) for n, s in enumerate(named)] + [Located("CP-NONE")]
    assert 1 < peers.stations.most_lookups_in_flight <= LOOKUPS_IN_FLIGHT
