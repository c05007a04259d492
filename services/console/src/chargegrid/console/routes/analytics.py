"""Analytics figures (energy per day, utilization, uptime with outages, peaks, revenue)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.console.auth import Caller, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import build, to_json
from chargegrid.console.deps import backends
from chargegrid.console.problems import Problem
from chargegrid.console.routes.params import (
    INT32_MAX,
    PageSize,
    PageToken,
    enum_name,
    page,
    rfc3339,
)

router = APIRouter(prefix="/analytics", tags=["analytics"])
Viewer = Annotated[Caller, Depends(viewer)]
B = Annotated[Backends, Depends(backends)]
ScopeName = Literal["network", "site", "station", "evse"]
GRANULARITY = {"15m": "GRANULARITY_15M", "hour": "GRANULARITY_HOUR", "day": "GRANULARITY_DAY",
               "month": "GRANULARITY_MONTH"}  # fmt: skip
FIGURES = {
    "energy": "Energy",
    "utilization": "Utilization",
    "uptime": "Uptime",
    "peaks": "Peaks",
    "revenue": "Revenue",
    "sessions": "SessionStats",
}


def _scope(
    scope: ScopeName, site_id: str | None, station_id: str | None, evse_id: int | None
) -> dict[str, Any]:
    if scope == "site" and not site_id:
        raise Problem(422, "scope=site needs site_id")
    if scope in ("station", "evse") and not station_id:
        raise Problem(422, f"scope={scope} needs station_id")
    if scope == "evse" and not evse_id:
        raise Problem(422, "scope=evse needs evse_id")
    return {
        "kind": f"SCOPE_KIND_{scope.upper()}",
        "site_id": site_id,
        "station_id": station_id,
        "evse_id": evse_id,
    }


@router.get("/status")
async def status(
    caller: Viewer,
    b: B,
    scope: ScopeName = "network",
    site_id: str | None = None,
    station_id: str | None = None,
    evse_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
) -> dict[str, Any]:
    request = build(pb.StatusRequest, {"scope": _scope(scope, site_id, station_id, evse_id)})
    return to_json(await b.call("analytics", "Status", request, caller))


@router.get("/{figure}")
async def figure(
    figure: Literal["energy", "utilization", "uptime", "peaks", "revenue", "sessions"],
    caller: Viewer,
    b: B,
    start: datetime,
    end: datetime,
    scope: ScopeName = "network",
    site_id: str | None = None,
    station_id: str | None = None,
    evse_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    granularity: Literal["15m", "hour", "day", "month"] | None = None,
    breakdown: Annotated[
        str | None, Query(description="time, hour_of_day, day_of_week, token_group")
    ] = None,
    page_size: PageSize = 500,
    page_token: PageToken = None,
) -> dict[str, Any]:
    if end <= start:
        raise Problem(422, "end must be after start")
    request = build(
        pb.AnalyticsQuery,
        {
            "scope": _scope(scope, site_id, station_id, evse_id),
            "start": rfc3339(start),
            "end": rfc3339(end),
            "granularity": GRANULARITY.get(granularity or ""),
            "breakdown": enum_name(pb.Breakdown, "BREAKDOWN_", breakdown, "breakdown"),
            "page": page(page_size, page_token),
        },
    )
    return to_json(await b.call("analytics", FIGURES[figure], request, caller))
