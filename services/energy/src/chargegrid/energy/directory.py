"""What the stations service knows that energy needs: a site's grid connection and which
site (and OCPP version, and connector ratings) a station has. Answers are cached for a
short time: a rebalance asks for every charging station of a site, and the registry is
not on the charging path.

A token's group (for priorities) comes from the authorization service the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import grpc

from chargegrid.api.authorization.v1 import authorization_pb2 as az
from chargegrid.api.authorization.v1 import authorization_pb2_grpc as az_grpc
from chargegrid.api.common.v1 import common_pb2 as common
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc

VERSIONS = {
    common.OCPP_VERSION_16: "1.6",
    common.OCPP_VERSION_201: "2.0.1",
    common.OCPP_VERSION_21: "2.1",
}


class DirectoryUnavailable(Exception):
    """The stations service could not be asked (not configured, down, refusing us)."""


@dataclass(frozen=True)
class SiteInfo:
    site_id: str
    #: Per phase, A; 0 = not set in the stations service.
    grid_limit_a: float
    grid_phases: int


@dataclass(frozen=True)
class StationInfo:
    station_id: str
    site_id: str
    ocpp_version: str
    #: The highest connector current per EVSE the registry knows (0 = unknown).
    evse_max_current_a: dict[int, float]


class Directory(Protocol):
    async def site(self, site_id: str) -> SiteInfo | None:
        """None = no such site; raises DirectoryUnavailable."""
        ...

    async def station(self, station_id: str) -> StationInfo | None:
        """None = no such station; raises DirectoryUnavailable."""
        ...

    async def stations_of(self, site_id: str) -> list[StationInfo]:
        """Every station registered on the site; raises DirectoryUnavailable."""
        ...


class TokenGroups(Protocol):
    async def group_of(self, id_token: str) -> str:
        """The token's group, "" when it has none or cannot be asked."""
        ...


V = TypeVar("V")
PAGE_SIZE = 1000


class _Cache(Generic[V]):
    def __init__(self, ttl_s: float, clock: Callable[[], float]) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.values: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> tuple[bool, V | None]:
        found = self.values.get(key)
        if found is None or self.clock() - found[0] > self.ttl_s:
            return False, None
        return True, found[1]

    def put(self, key: str, value: V) -> V:
        self.values[key] = (self.clock(), value)
        return value


def _station_info(station: st.Station) -> StationInfo:
    ratings = {
        evse.evse_id: max((c.max_current_a for c in evse.connectors), default=0.0)
        for evse in station.evses
    }
    return StationInfo(
        station_id=station.id,
        site_id=station.site_id,
        ocpp_version=VERSIONS.get(station.ocpp_version, ""),
        evse_max_current_a=ratings,
    )


class GrpcDirectory:
    """Directory over the stations service's gRPC API, cached for `ttl_s`."""

    def __init__(
        self,
        channel: grpc.aio.Channel | None,
        timeout_s: float = 5.0,
        ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = st_grpc.StationsStub(channel) if channel is not None else None
        self.timeout_s = timeout_s
        self._sites: _Cache[SiteInfo | None] = _Cache(ttl_s, clock)
        self._stations: _Cache[StationInfo | None] = _Cache(ttl_s, clock)
        self._sites_stations: _Cache[list[StationInfo]] = _Cache(ttl_s, clock)

    def _control(self) -> st_grpc.StationsAsyncStub:
        if self._stub is None:
            raise DirectoryUnavailable("no stations service is configured (stations_address)")
        return self._stub

    async def site(self, site_id: str) -> SiteInfo | None:
        hit, cached = self._sites.get(site_id)
        if hit:
            return cached
        try:
            site = await self._control().GetSite(
                st.GetSiteRequest(site_id=site_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return self._sites.put(site_id, None)
            raise DirectoryUnavailable(f"stations service: {exc.code().name}") from exc
        info = SiteInfo(site.id, float(site.grid_limit_a), int(site.grid_phases) or 3)
        return self._sites.put(site_id, info)

    async def station(self, station_id: str) -> StationInfo | None:
        hit, cached = self._stations.get(station_id)
        if hit:
            return cached
        try:
            station = await self._control().GetStation(
                st.GetStationRequest(station_id=station_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return self._stations.put(station_id, None)
            raise DirectoryUnavailable(f"stations service: {exc.code().name}") from exc
        return self._stations.put(station_id, _station_info(station))

    async def stations_of(self, site_id: str) -> list[StationInfo]:
        hit, cached = self._sites_stations.get(site_id)
        if hit and cached is not None:
            return cached
        request = st.ListStationsRequest(site_id=site_id, page=PageRequest(page_size=PAGE_SIZE))
        found: list[StationInfo] = []
        try:
            while True:
                reply = await self._control().ListStations(request, timeout=self.timeout_s)
                found += [_station_info(s) for s in reply.stations if s.site_id == site_id]
                if not reply.next_page_token:
                    break
                request.page.page_token = reply.next_page_token
        except grpc.aio.AioRpcError as exc:
            raise DirectoryUnavailable(f"stations service: {exc.code().name}") from exc
        for info in found:
            self._stations.put(info.station_id, info)
        return self._sites_stations.put(site_id, found)

    def forget_station(self, station_id: str) -> None:
        """A boot may have changed what the registry says (site, version)."""
        self._stations.values.pop(station_id, None)


class GrpcTokenGroups:
    """TokenGroups over the authorization service; without it every token has no group."""

    def __init__(self, channel: grpc.aio.Channel | None, timeout_s: float = 5.0) -> None:
        self._stub = az_grpc.AuthorizationStub(channel) if channel is not None else None
        self.timeout_s = timeout_s

    async def group_of(self, id_token: str) -> str:
        if self._stub is None or not id_token:
            return ""
        try:
            token = await self._stub.GetToken(
                az.GetTokenRequest(id_token=id_token), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError:
            return ""
        return str(token.group_id)
