"""Which stations a campaign reaches and in which time zone, asked of the stations service.

A selection (site, vendor, model, current version) is resolved once, at creation: the
campaign then keeps that list, so a station added later is not updated by surprise. Each
station's site time zone is stored with its update so its window is read in local time.
Every filter is checked again here, because a stations service that ignored one would
otherwise send the image to the whole fleet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Protocol, TypeVar

import grpc

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc

PAGE_SIZE = 1000
#: Lookups in flight at once: a campaign of thousands of named stations is located in about
#: a second instead of one round trip after another.
LOOKUPS_IN_FLIGHT = 32

K = TypeVar("K")
V = TypeVar("V")


async def _unless_missing(call: Awaitable[V]) -> V | None:
    """The service's answer, or None when it says NOT_FOUND."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


async def _each(keys: Iterable[K], lookup: Callable[[K], Awaitable[V]]) -> list[V]:
    """`lookup` of every key, in key order, at most LOOKUPS_IN_FLIGHT at a time; the first
    failure is raised."""
    gate = asyncio.Semaphore(LOOKUPS_IN_FLIGHT)

    async def bounded(key: K) -> V:
        async with gate:
            return await lookup(key)

    return list(await asyncio.gather(*(bounded(key) for key in keys)))


class StationsUnavailable(Exception):
    """The stations service could not be asked (not configured, down, or refusing us)."""


@dataclass(frozen=True)
class Selection:
    """Filters a station must all match; empty ones match anything."""

    site_id: str = ""
    vendor: str = ""
    model: str = ""
    current_version: str = ""

    def given(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def describe(self) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in self.given().items())

    def matches(self, station: st.Station) -> bool:
        return (
            self.site_id in ("", station.site_id)
            and self.vendor in ("", station.vendor)
            and self.model in ("", station.model)
            and self.current_version in ("", station.firmware_version)
        )


@dataclass(frozen=True)
class Located:
    station_id: str
    #: The IANA zone of the station's site; None = no site or no zone (read as UTC).
    timezone: str | None = None


class StationDirectory(Protocol):
    async def matching(self, selection: Selection) -> list[Located]:
        """Every station matching `selection`; raises StationsUnavailable."""
        ...

    async def locate(self, station_ids: Sequence[str]) -> list[Located]:
        """The given stations with their zones (unknown ones: None); raises StationsUnavailable."""
        ...


def _unavailable(exc: grpc.aio.AioRpcError) -> StationsUnavailable:
    return StationsUnavailable(f"stations service unavailable: {exc.code().name} {exc.details()}")


class GrpcStationDirectory:
    """StationDirectory over gRPC; without a channel selections cannot be resolved and every
    explicit station is in UTC."""

    def __init__(self, channel: grpc.aio.Channel | None, timeout_s: float = 5.0) -> None:
        self._stub: st_grpc.StationsAsyncStub | None = (
            st_grpc.StationsStub(channel) if channel is not None else None
        )
        self.timeout_s = timeout_s

    async def matching(self, selection: Selection) -> list[Located]:
        if self._stub is None:
            raise StationsUnavailable("no stations service is configured (stations_address)")
        found: list[st.Station] = []
        request = st.ListStationsRequest(
            site_id=selection.site_id,
            vendor=selection.vendor,
            model=selection.model,
            firmware_version=selection.current_version,
            page=PageRequest(page_size=PAGE_SIZE),
        )
        try:
            while True:
                reply = await self._stub.ListStations(request, timeout=self.timeout_s)
                found.extend(s for s in reply.stations if selection.matches(s))
                if not reply.next_page_token:
                    break
                request.page.page_token = reply.next_page_token
            zones = await self._zones({s.site_id for s in found if s.site_id})
        except grpc.aio.AioRpcError as exc:
            raise _unavailable(exc) from exc
        unique = {s.id: s for s in found}
        return [Located(s.id, zones.get(s.site_id)) for s in unique.values()]

    async def locate(self, station_ids: Sequence[str]) -> list[Located]:
        if self._stub is None:
            return [Located(station_id) for station_id in station_ids]
        try:
            found = await _each(station_ids, self._site_of)
            sites = {
                station: site for station, site in zip(station_ids, found, strict=True) if site
            }
            zones = await self._zones(set(sites.values()))
        except grpc.aio.AioRpcError as exc:
            raise _unavailable(exc) from exc
        return [Located(s, zones.get(sites.get(s, ""))) for s in station_ids]

    async def _site_of(self, station_id: str) -> str:
        """The station's site id; "" when it has none or is not registered."""
        assert self._stub is not None
        request = st.GetStationRequest(station_id=station_id)
        station = await _unless_missing(self._stub.GetStation(request, timeout=self.timeout_s))
        return str(station.site_id) if station is not None else ""

    async def _zones(self, site_ids: set[str]) -> dict[str, str]:
        ordered = sorted(site_ids)
        found = await _each(ordered, self._zone_of)
        return {site: zone for site, zone in zip(ordered, found, strict=True) if zone}

    async def _zone_of(self, site_id: str) -> str:
        """The site's IANA zone; "" when it has none or does not exist."""
        assert self._stub is not None
        request = st.GetSiteRequest(site_id=site_id)
        site = await _unless_missing(self._stub.GetSite(request, timeout=self.timeout_s))
        return str(site.timezone) if site is not None else ""
