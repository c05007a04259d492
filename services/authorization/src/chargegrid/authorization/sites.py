"""Which site a station belongs to, and which stations a site has (the stations service).

Authorize asks for a station's site only for site-restricted tokens, and from a cache:
an answer (also "no such station") is kept `ttl_s`; an unreachable service is remembered
for a short while, so a dead peer costs one timeout per station, not one per request.
A station whose site cannot be learnt is treated as being on no site.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.stations.v1 import stations_pb2 as st_pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
UNREACHABLE_TTL_S = 2.0


class SiteDirectory:
    def __init__(
        self,
        channel: grpc.aio.Channel | None,
        ttl_s: float = 60.0,
        timeout_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = StationsStub(channel) if channel is not None else None
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._monotonic = monotonic
        self._sites: dict[str, tuple[str | None, float]] = {}

    async def site_of(self, station_id: str) -> str | None:
        cached = self._sites.get(station_id)
        now = self._monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        if self._stub is None:
            return None
        site, ttl = await self._ask(station_id)
        self._sites[station_id] = (site, now + ttl)
        return site

    async def _ask(self, station_id: str) -> tuple[str | None, float]:
        assert self._stub is not None
        try:
            station = await self._stub.GetStation(
                st_pb.GetStationRequest(station_id=station_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None, self.ttl_s
            log.warning("stations service unreachable", station_id=station_id, code=str(exc.code()))
            return None, min(self.ttl_s, UNREACHABLE_TTL_S)
        return (station.site_id or None), self.ttl_s

    def forget(self, station_id: str) -> None:
        self._sites.pop(station_id, None)

    async def stations_of(self, site_id: str, online_only: bool = False) -> list[str]:
        """Every station of the site (all pages); empty when the service cannot say."""
        if self._stub is None or not site_id:
            return []
        found: list[str] = []
        page_token = ""
        try:
            while True:
                reply = await self._stub.ListStations(
                    st_pb.ListStationsRequest(
                        site_id=site_id,
                        online="online" if online_only else "",
                        page=PageRequest(page_size=1000, page_token=page_token),
                    ),
                    timeout=self.timeout_s,
                )
                found.extend(s.id for s in reply.stations if s.site_id in ("", site_id))
                page_token = reply.next_page_token
                if not page_token:
                    return found
        except grpc.aio.AioRpcError as exc:
            log.warning("cannot list the stations of a site", site_id=site_id, code=str(exc.code()))
            return found
