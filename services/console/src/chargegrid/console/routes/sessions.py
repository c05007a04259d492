"""Sessions (live and history) and their meter samples.

The live list (`active=true`) comes from the live mirror while its sessions are current (read
in full and the WatchSessions stream open): every open session, with no gRPC call and no
`json_format` walk per request. Otherwise, and for the history, the session service answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.console.auth import Caller, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import build, to_json
from chargegrid.console.deps import backends, live
from chargegrid.console.live import LiveMirror
from chargegrid.console.routes.params import (
    PageSize,
    PageToken,
    Since,
    Until,
    enum_name,
    page,
    rfc3339,
)
from chargegrid.console.session_json import session_json, session_list_json

router = APIRouter(prefix="/sessions", tags=["sessions"])
Viewer = Annotated[Caller, Depends(viewer)]
B = Annotated[Backends, Depends(backends)]
Mirror = Annotated[LiveMirror, Depends(live)]


def _open_sessions(mirror: LiveMirror, site_id: str, station_id: str) -> dict[str, Any]:
    """The mirror's open sessions in ActiveSessions' order (oldest first) and shape."""
    chosen = [
        s
        for s in mirror.sessions.values()
        if (not site_id or s.site_id == site_id) and (not station_id or s.station_id == station_id)
    ]
    chosen.sort(key=lambda s: (s.started_at.seconds, s.started_at.nanos, s.id))
    return {
        "sessions": [session_json(s) for s in chosen],
        "next_page_token": "",
        "total": len(chosen),
    }


@router.get("")
async def list_sessions(
    caller: Viewer,
    b: B,
    mirror: Mirror,
    active: Annotated[
        bool, Query(description="Open sessions only (live view, unpaged, newest data).")
    ] = False,
    station_id: str | None = None,
    site_id: str | None = None,
    id_token: str | None = None,
    status: Annotated[str | None, Query(description="active, completed, interrupted")] = None,
    since: Since = None,
    until: Until = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
) -> dict[str, Any]:
    if active:
        if mirror.sessions_current():
            return _open_sessions(mirror, site_id or "", station_id or "")
        request = pb.ActiveSessionsRequest(site_id=site_id or "", station_id=station_id or "")
        return session_list_json(await b.call("session", "ActiveSessions", request, caller))
    past = build(
        pb.ListSessionsRequest,
        {
            "station_id": station_id,
            "site_id": site_id,
            "id_token": id_token,
            "status": enum_name(pb.SessionStatus, "SESSION_STATUS_", status, "status"),
            "since": rfc3339(since),
            "until": rfc3339(until),
            "page": page(page_size, page_token),
        },
    )
    return session_list_json(await b.call("session", "ListSessions", past, caller))


@router.get("/{session_id}")
async def get_session(session_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    request = pb.GetSessionRequest(session_id=session_id)
    return to_json(await b.call("session", "GetSession", request, caller))


@router.get("/{session_id}/meter-samples")
async def meter_samples(
    session_id: str,
    caller: Viewer,
    b: B,
    measurand: str | None = None,
    page_size: PageSize = 500,
    page_token: PageToken = None,
) -> dict[str, Any]:
    request = build(
        pb.MeterSamplesRequest,
        {"session_id": session_id, "measurand": measurand, "page": page(page_size, page_token)},
    )
    return to_json(await b.call("session", "MeterSamples", request, caller))
