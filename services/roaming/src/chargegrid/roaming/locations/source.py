"""Where locations come from: every site and station of the stations service (paged gRPC)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import grpc

from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub

PAGE_SIZE = 500


class Registry(Protocol):
    async def snapshot(self) -> tuple[list[st.Site], list[st.Station]]: ...


async def _all(call: Callable[[Any], Awaitable[Any]], request: Any, items: str) -> list[Any]:
    found: list[Any] = []
    while True:
        request.page.page_size = PAGE_SIZE
        reply = await call(request)
        found.extend(getattr(reply, items))
        if not reply.next_page_token:
            return found
        request.page.page_token = reply.next_page_token


class StationsRegistry:
    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self.stub = StationsStub(channel)
        self.timeout_s = timeout_s

    async def snapshot(self) -> tuple[list[st.Site], list[st.Station]]:
        async def sites(request: st.ListSitesRequest) -> st.ListSitesReply:
            return await self.stub.ListSites(request, timeout=self.timeout_s)

        async def stations(request: st.ListStationsRequest) -> st.ListStationsReply:
            return await self.stub.ListStations(request, timeout=self.timeout_s)

        return (
            await _all(sites, st.ListSitesRequest(), "sites"),
            await _all(stations, st.ListStationsRequest(), "stations"),
        )
