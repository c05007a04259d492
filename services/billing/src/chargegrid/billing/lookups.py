"""What billing asks other services, cached: a station's site, a site's time zone (stations)
and a token's group (authorization).

Only definitive answers are cached. "Unknown" (NOT_FOUND, no time zone, a zone name Python
does not know) is definitive and means UTC or no group; "unreachable" is not, and is reported
as None so the caller can try again at the session's next event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import grpc

from chargegrid.api.authorization.v1 import authorization_pb2 as auth_pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.api.stations.v1 import stations_pb2 as st_pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
UTC_NAME = "UTC"


class Lookups(Protocol):
    async def site_and_timezone(self, station_id: str, site_id: str) -> tuple[str, str] | None:
        """(site id, IANA zone); "UTC" when unknown; None when stations is unreachable."""
        ...

    async def token_group(self, id_token: str) -> str | None:
        """The token's group, "" when it has none; None when authorization is unreachable."""
        ...


class NoLookups:
    """No other service configured: every site is UTC, no token has a group."""

    async def site_and_timezone(self, station_id: str, site_id: str) -> tuple[str, str] | None:
        return site_id, UTC_NAME

    async def token_group(self, id_token: str) -> str | None:
        return ""


def known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_NAME
    return name


class _TtlCache:
    def __init__(self, ttl_s: float, monotonic: Callable[[], float]) -> None:
        self.ttl_s = ttl_s
        self.monotonic = monotonic
        self._items: dict[str, tuple[float, str]] = {}

    def get(self, key: str) -> str | None:
        found = self._items.get(key)
        if found is None or found[0] < self.monotonic():
            return None
        return found[1]

    def put(self, key: str, value: str) -> None:
        self._items[key] = (self.monotonic() + self.ttl_s, value)


class GrpcLookups:
    def __init__(
        self,
        stations: grpc.aio.Channel | None,
        authorization: grpc.aio.Channel | None,
        *,
        ttl_s: float = 300.0,
        timeout_s: float = 3.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stations = StationsStub(stations) if stations is not None else None
        self.authorization = AuthorizationStub(authorization) if authorization else None
        self.timeout_s = timeout_s
        self._sites = _TtlCache(ttl_s, monotonic)
        self._zones = _TtlCache(ttl_s, monotonic)
        self._groups = _TtlCache(ttl_s, monotonic)

    async def site_and_timezone(self, station_id: str, site_id: str) -> tuple[str, str] | None:
        if self.stations is None:
            return site_id, UTC_NAME
        try:
            site = site_id or await self._site_of(station_id)
            return site, (await self._zone_of(site) if site else UTC_NAME)
        except grpc.aio.AioRpcError as exc:
            log.warning("stations unreachable", station_id=station_id, code=exc.code().name)
            return None

    async def _site_of(self, station_id: str) -> str:
        cached = self._sites.get(station_id)
        if cached is not None:
            return cached
        assert self.stations is not None
        try:
            reply = await self.stations.GetStation(
                st_pb.GetStationRequest(station_id=station_id), timeout=self.timeout_s
            )
            site = str(reply.site_id)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            site = ""
        self._sites.put(station_id, site)
        return site

    async def _zone_of(self, site_id: str) -> str:
        cached = self._zones.get(site_id)
        if cached is not None:
            return cached
        assert self.stations is not None
        try:
            reply = await self.stations.GetSite(
                st_pb.GetSiteRequest(site_id=site_id), timeout=self.timeout_s
            )
            zone = known_zone(reply.timezone) if reply.timezone else UTC_NAME
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            zone = UTC_NAME
        self._zones.put(site_id, zone)
        return zone

    async def token_group(self, id_token: str) -> str | None:
        if self.authorization is None or not id_token:
            return ""
        cached = self._groups.get(id_token)
        if cached is not None:
            return cached
        try:
            reply = await self.authorization.GetToken(
                auth_pb.GetTokenRequest(id_token=id_token), timeout=self.timeout_s
            )
            group = str(reply.group_id)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                log.warning("authorization unreachable", code=exc.code().name)
                return None
            group = ""
        self._groups.put(id_token, group)
        return group
