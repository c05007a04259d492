"""The event stream over real HTTP (uvicorn in the test's loop), fed by the services' watch
streams (fakes of the stubs): a status change and a session update arrive as SSE events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargegrid.api.energy.v1 import energy_pb2
from chargegrid.api.session.v1 import session_pb2
from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.stations.v1 import stations_pb2
from chargegrid.console.app import ConsoleApp
from chargegrid.console.backends import Backends
from chargegrid.console.settings import ConsoleSettings
from chargegrid.platform.grpc.tokens import Role, TokenRegistry
from tests.unit.console.fakes import SERVICES, FakeStub


class Feed:
    """A server stream the test pushes into."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def __call__(self) -> Feed:
        return self

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._items()

    async def wait_for_connection(self) -> None:
        return None

    async def _items(self) -> AsyncIterator[Any]:
        while True:
            yield await self.queue.get()


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("console-sse")
    registry = TokenRegistry(tmp / "api-tokens.json")
    viewer = registry.add("viewer-user", Role.VIEWER)
    service = registry.add("svc", Role.SERVICE)
    feeds = {"status": Feed(), "sessions": Feed(), "load": Feed()}
    stubs = {name: FakeStub(name) for name in SERVICES}
    stubs["stations"].replies["WatchStatus"] = feeds["status"]
    stubs["session"].replies["WatchSessions"] = feeds["sessions"]
    stubs["energy"].replies["WatchSiteLoad"] = feeds["load"]
    settings = ConsoleSettings(
        http_host="127.0.0.1", http_port=0, grpc_host="127.0.0.1", grpc_port=0,
        api_tokens_file=tmp / "api-tokens.json", service_token=service,
        sse_keepalive_s=0.2,
    )  # fmt: skip
    app = ConsoleApp(settings, Backends(stubs))
    await app.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http_port}") as client:
        yield {"client": client, "viewer": viewer, "feeds": feeds, "stubs": stubs}
    await app.stop()


async def _events(lines: AsyncIterator[str], wanted: str) -> dict[str, Any]:
    kind = None
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == wanted:
            return json.loads(line.removeprefix("data: "))  # type: ignore[no-any-return]
    raise AssertionError(f"stream ended before a {wanted} event")


async def _ticket(running: dict[str, Any]) -> str:
    reply = await running["client"].post(
        "/api/v1/events/ticket", headers={"Authorization": f"Bearer {running['viewer']}"}
    )
    return reply.json()["ticket"]  # type: ignore[no-any-return]


async def test_a_status_change_and_a_session_update_arrive_over_the_stream(
    running: dict[str, Any],
) -> None:
    client: httpx.AsyncClient = running["client"]
    ticket = await _ticket(running)
    async with client.stream("GET", f"/api/v1/events/stream?ticket={ticket}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        update = stations_pb2.StatusUpdate(
            station_id="CP1", evse_id=1, connector_id=1, online=True,
            status=station_events.CONNECTOR_STATUS_CHARGING,
        )  # fmt: skip
        await running["feeds"]["status"].queue.put(update)
        data = await asyncio.wait_for(_events(lines, "station.status"), 10)
        assert (data["station_id"], data["status"]) == ("CP1", "CONNECTOR_STATUS_CHARGING")
        session = session_pb2.Session(id="CP1:7", station_id="CP1", energy_wh=1234.5)
        await running["feeds"]["sessions"].queue.put(
            session_pb2.SessionChange(kind="updated", session=session)
        )
        data = await asyncio.wait_for(_events(lines, "session.updated"), 10)
        assert data["energy_wh"] == 1234.5


async def test_a_site_stream_carries_the_sites_load_with_the_callers_token(
    running: dict[str, Any],
) -> None:
    client: httpx.AsyncClient = running["client"]
    headers = {"Authorization": f"Bearer {running['viewer']}"}
    async with client.stream(
        "GET", "/api/v1/events/stream?kinds=site_load&site_id=s1", headers=headers
    ) as response:
        assert response.status_code == 200
        await running["feeds"]["load"].queue.put(energy_pb2.SiteLoad(site_id="s1"))
        data = await asyncio.wait_for(_events(response.aiter_lines(), "site_load"), 10)
        assert data["site_id"] == "s1"
    watch = [c for c in running["stubs"]["energy"].calls if c.method == "WatchSiteLoad"][-1]
    assert ("authorization", f"Bearer {running['viewer']}") in watch.metadata


async def test_a_stream_without_credentials_or_with_unknown_kinds_is_refused(
    running: dict[str, Any],
) -> None:
    client: httpx.AsyncClient = running["client"]
    assert (await client.get("/api/v1/events/stream")).status_code == 401
    ticket = await _ticket(running)
    response = await client.get(f"/api/v1/events/stream?ticket={ticket}&kinds=weather")
    assert response.status_code == 422
    response = await client.get(f"/api/v1/events/stream?ticket={ticket}&kinds=site_load")
    assert "needs site_id" in response.json()["detail"]
