"""`paged`: every page of a List RPC, in order, with the page size asked and an optional limit."""

from __future__ import annotations

import asyncio

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.cli.api import paged

IDS = [f"CP-{n}" for n in range(7)]


class FakeList:
    """ListStations over IDS, `page_size` at a time, tokens being the next offset."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str]] = []

    async def __call__(self, request: pb.ListStationsRequest) -> pb.ListStationsReply:
        self.asked.append((request.page.page_size, request.page.page_token))
        start = int(request.page.page_token or 0)
        end = start + request.page.page_size
        return pb.ListStationsReply(
            stations=[pb.Station(id=i) for i in IDS[start:end]],
            next_page_token=str(end) if end < len(IDS) else "",
        )


def test_every_page_is_fetched_in_order_with_the_request_filters_kept() -> None:
    fake = FakeList()
    request = pb.ListStationsRequest(site_id="S1")
    found = asyncio.run(paged(fake, request, "stations", 3))
    assert [s.id for s in found] == IDS
    assert fake.asked == [(3, ""), (3, "3"), (3, "6")]
    assert request.site_id == "S1"


def test_a_limit_stops_early_and_cuts_the_last_page() -> None:
    fake = FakeList()
    found = asyncio.run(paged(fake, pb.ListStationsRequest(), "stations", 3, limit=4))
    assert [s.id for s in found] == IDS[:4]
    assert len(fake.asked) == 2
