"""Station -> (site id, site time zone), from the stations service, cached.

Windows are labelled with the local day and month of their station's site, so ingest needs
the time zone once per station, not per event: GetStation then GetSite, remembered for
`ttl_s`. An unknown station, a station without a site, an unreachable or slow stations
service give ("", "UTC") for a tenth of that, so an outage costs one short wait now and then
and ingest never stops. `rebuild` recounts with the zones known by then.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SiteInfo:
    site_id: str = ""
    timezone: str = "UTC"


NO_SITE = SiteInfo()
SiteLookup = Callable[[str], Awaitable[SiteInfo]]


async def no_sites(_station_id: str) -> SiteInfo:
    return NO_SITE


class FixedSites:
    """A known station -> site map (tests, the reference run, a stack without stations)."""

    def __init__(self, sites: dict[str, SiteInfo]) -> None:
        self.sites = dict(sites)

    async def __call__(self, station_id: str) -> SiteInfo:
        return self.sites.get(station_id, NO_SITE)


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
        self._known: dict[str, tuple[SiteInfo, float]] = {}

    async def __call__(self, station_id: str) -> SiteInfo:
        now = self.clock()
        found = self._known.get(station_id)
        if found is not None and now < found[1]:
            return found[0]
        info, ttl = await self._ask(station_id)
        self._known[station_id] = (info, now + ttl)
        return info

    async def _ask(self, station_id: str) -> tuple[SiteInfo, float]:
        try:
            station = await self._stub.GetStation(
                stations_pb.GetStationRequest(station_id=station_id), timeout=self.timeout_s
            )
            if not station.site_id:
                return NO_SITE, self.ttl_s
            site = await self._stub.GetSite(
                stations_pb.GetSiteRequest(site_id=station.site_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                log.warning("site lookup failed", station_id=station_id, code=exc.code().name)
            return NO_SITE, self.ttl_s / 10
        return SiteInfo(str(station.site_id), site.timezone or "UTC"), self.ttl_s
