"""Site energy: load now (limits, allocations, draw per phase), limits, history, DR events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.console.auth import Caller, operator, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import build, to_json
from chargegrid.console.deps import backends
from chargegrid.console.routes.params import PageSize, PageToken, page, rfc3339

router = APIRouter(prefix="/energy", tags=["energy"])
Viewer = Annotated[Caller, Depends(viewer)]
Operator = Annotated[Caller, Depends(operator)]
B = Annotated[Backends, Depends(backends)]


@router.get("/sites/{site_id}/load")
async def site_load(site_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    request = pb.GetSiteLoadRequest(site_id=site_id)
    return to_json(await b.call("energy", "GetSiteLoad", request, caller))


class LimitBody(BaseModel):
    limit_a: float = Field(gt=0, description="Per phase, amperes")
    policy: str = Field(default="", max_length=32)


@router.put("/sites/{site_id}/limit")
async def set_limit(site_id: str, body: LimitBody, caller: Operator, b: B) -> dict[str, Any]:
    request = pb.SetLimitRequest(site_id=site_id, limit_a=body.limit_a, policy=body.policy)
    return to_json(await b.call("energy", "SetLimit", request, caller))


@router.get("/sites/{site_id}/allocations")
async def allocations(
    site_id: str, caller: Viewer, b: B, page_size: PageSize = 100, page_token: PageToken = None
) -> dict[str, Any]:
    request = build(
        pb.ListAllocationsRequest, {"site_id": site_id, "page": page(page_size, page_token)}
    )
    return to_json(await b.call("energy", "ListAllocations", request, caller))


@router.get("/sites/{site_id}/circuits")
async def circuits(site_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    request = pb.ListCircuitsRequest(site_id=site_id)
    return to_json(await b.call("energy", "ListCircuits", request, caller))


@router.get("/demand-response")
async def list_demand_responses(
    caller: Viewer, b: B, site_id: str | None = None, include_past: bool = False
) -> dict[str, Any]:
    request = pb.ListDemandResponsesRequest(site_id=site_id or "", include_past=include_past)
    return to_json(await b.call("energy", "ListDemandResponses", request, caller))


class DemandResponseBody(BaseModel):
    site_id: str = Field(min_length=1, max_length=64)
    start: datetime
    end: datetime
    limit_a: float | None = Field(default=None, ge=0)
    limit_kw: float | None = Field(default=None, ge=0)
    percent: float | None = Field(default=None, ge=0, le=100)
    source: str = Field(default="console", max_length=64)

    @model_validator(mode="after")
    def one_reduction(self) -> DemandResponseBody:
        given = [v for v in (self.limit_a, self.limit_kw, self.percent) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of limit_a, limit_kw, percent")
        return self


@router.post("/demand-response", status_code=201)
async def create_demand_response(
    body: DemandResponseBody, caller: Operator, b: B
) -> dict[str, Any]:
    request = build(
        pb.CreateDemandResponseRequest,
        {
            "site_id": body.site_id,
            "start": rfc3339(body.start),
            "end": rfc3339(body.end),
            "limit_a": body.limit_a,
            "limit_kw": body.limit_kw,
            "percent": body.percent,
            "source": body.source,
        },
    )
    return to_json(await b.call("energy", "CreateDemandResponse", request, caller))


@router.delete("/demand-response/{event_id}")
async def cancel_demand_response(event_id: str, caller: Operator, b: B) -> dict[str, Any]:
    request = pb.CancelDemandResponseRequest(id=event_id)
    return to_json(await b.call("energy", "CancelDemandResponse", request, caller))
