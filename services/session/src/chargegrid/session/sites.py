"""Station -> site id, from the stations service, cached and never slow for long.

Sessions carry the site they were opened at. The consumer asks here before its
transaction; an answer is cached for `ttl_s`, and an unknown station, an unreachable
stations service or a slow answer (over `timeout_s`) yield "" and are cached for a tenth of
that, so an outage costs at most one short wait per station now and then.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import grpc

from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
SiteLookup = Callable[[str], Awaitable[str]]


async def no_sites(_station_id: str) -> str:
    return ""


class StationSites:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        timeout_s: float = 1.0,
        ttl_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = stations_grpc.StationsStub(channel)
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self.clock = clock
        self._known: dict[str, tuple[str, float]] = {}

    async def __call__(self, station_id: str) -> str:
        now = self.clock()
        found = self._known.get(station_id)
        if found is not None and now < found[1]:
            return found[0]
        site, ttl = await self._ask(station_id)
        self._known[station_id] = (site, now + ttl)
        return site

    async def _ask(self, station_id: str) -> tuple[str, float]:
        try:
            station = await self._stub.GetStation(
                stations_pb.GetStationRequest(station_id=station_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                log.warning("site lookup failed", station_id=station_id, code=exc.code().name)
            return "", self.ttl_s / 10
        return str(station.site_id), self.ttl_s
