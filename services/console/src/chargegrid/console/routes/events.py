"""Server-sent events: `GET /api/v1/events/stream` and the tickets EventSource needs.

Each client gets its own bounded queue in the hub (station.status, session.* from the live
mirror); with `site_id` and `site_load` among the kinds, the client also gets that site's
load from the energy service's WatchSiteLoad. Every SSE message is `event: <kind>` plus one
JSON `data:` line; idle streams get a comment every `sse_keepalive_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from chargegrid.api.energy.v1 import energy_pb2
from chargegrid.console.auth import Authenticator, Caller, viewer
from chargegrid.console.convert import to_json
from chargegrid.console.hub import LiveEvent, Subscription
from chargegrid.console.live import STREAM_TIMEOUT_S, LiveMirror
from chargegrid.console.problems import Problem

router = APIRouter(prefix="/events", tags=["live events"])
KINDS = frozenset({"station", "session", "site_load"})


class Ticket(BaseModel):
    ticket: str
    expires_in_s: float


@router.post("/ticket", response_model=Ticket)
async def ticket(request: Request, caller: Annotated[Caller, Depends(viewer)]) -> Ticket:
    """A short-lived ticket for `?ticket=` on the stream (EventSource cannot send headers)."""
    auth: Authenticator = request.app.state.auth
    value, ttl = auth.issue_ticket(caller)
    return Ticket(ticket=value, expires_in_s=ttl)


def _frame(event: LiveEvent) -> bytes:
    return (
        f"event: {event.kind}\ndata: {json.dumps(event.data, separators=(',', ':'))}\n\n".encode()
    )


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    ticket: Annotated[str | None, Query(max_length=2048)] = None,
    kinds: Annotated[
        str, Query(description="Comma-separated: station, session, site_load")
    ] = "station,session",
    site_id: str | None = None,
    station_id: str | None = None,
) -> StreamingResponse:
    auth: Authenticator = request.app.state.auth
    header = request.headers.get("authorization")
    caller = auth.from_ticket(ticket) if ticket and not header else auth.from_header(header)
    wanted = frozenset(k.strip() for k in kinds.split(",") if k.strip())
    if not wanted or wanted - KINDS:
        raise Problem(422, f"kinds: unknown {sorted(wanted - KINDS)} (use {sorted(KINDS)})")
    if "site_load" in wanted and not site_id:
        raise Problem(422, "kinds: site_load needs site_id")
    mirror: LiveMirror = request.app.state.live
    keepalive: float = request.app.state.sse_keepalive_s
    sub = mirror.hub.subscribe(wanted, site_id, station_id)
    watcher = None
    if "site_load" in wanted and site_id:
        watcher = asyncio.create_task(_watch_site_load(mirror, caller, site_id, sub))
    return StreamingResponse(
        _events(request, mirror, sub, watcher, keepalive),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request,
    mirror: LiveMirror,
    sub: Subscription,
    watcher: asyncio.Task[None] | None,
    keepalive_s: float,
) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 3000\n: connected\n\n"
        while not sub.dropped.is_set():
            try:
                event = await asyncio.wait_for(sub.queue.get(), keepalive_s)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield b": keepalive\n\n"
                continue
            yield _frame(event)
        yield _frame(LiveEvent("dropped", {"reason": "client too slow; reconnect"}))
    finally:
        mirror.hub.unsubscribe(sub)
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher


async def _watch_site_load(
    mirror: LiveMirror, caller: Caller, site_id: str, sub: Subscription
) -> None:
    """The site's load into this client's queue, reconnecting while the client stays."""
    while not sub.dropped.is_set():
        try:
            stub = mirror.backends.stub("energy")
            call = stub.WatchSiteLoad(
                energy_pb2.GetSiteLoadRequest(site_id=site_id),
                metadata=caller.metadata(),
                timeout=STREAM_TIMEOUT_S,
            )
            async for load in call:
                data: dict[str, Any] = to_json(load)
                if not sub.offer(LiveEvent("site_load", data, site_id)):
                    return
        except (grpc.aio.AioRpcError, Problem) as exc:
            sub.offer(
                LiveEvent("site_load.error", {"site_id": site_id, "detail": str(exc)}, site_id)
            )
        await asyncio.sleep(3)
