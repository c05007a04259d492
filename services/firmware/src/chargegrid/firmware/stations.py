"""Which stations a campaign reaches and in which time zone, asked of the stations service.

A selection (site, vendor, model, current version) is resolved once, at creation: the
campaign then keeps that list, so a station added later is not updated by surprise. Each
station's site time zone is stored with its update so its window is read in local time.
Every filter is checked again here, because a stations service that ignored one would
otherwise send the image to the whole fleet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Protocol

import grpc

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc

PAGE_SIZE = 1000


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
        sites: dict[str, str] = {}
        try:
            for station_id in station_ids:
                site_id = await self._site_of(station_id)
                if site_id:
                    sites[station_id] = site_id
            zones = await self._zones(set(sites.values()))
        except grpc.aio.AioRpcError as exc:
            raise _unavailable(exc) from exc
        return [Located(s, zones.get(sites.get(s, ""))) for s in station_ids]

    async def _site_of(self, station_id: str) -> str:
        assert self._stub is not None
        request = st.GetStationRequest(station_id=station_id)
        try:
            station = await self._stub.GetStation(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return ""
            raise
        return str(station.site_id)

    async def _zones(self, site_ids: set[str]) -> dict[str, str]:
        assert self._stub is not None
        zones: dict[str, str] = {}
        for site_id in sorted(site_ids):
            request = st.GetSiteRequest(site_id=site_id)
            try:
                site = await self._stub.GetSite(request, timeout=self.timeout_s)
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    continue
                raise
            if site.timezone:
                zones[site_id] = str(site.timezone)
        return zones
