"""Firmware images and campaigns (with progress), log uploads and security events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.console.auth import Caller, operator, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import build, to_json
from chargegrid.console.deps import backends
from chargegrid.console.routes.params import PageSize, PageToken, Since, page, rfc3339

router = APIRouter(tags=["firmware, logs and security events"])
Viewer = Annotated[Caller, Depends(viewer)]
Operator = Annotated[Caller, Depends(operator)]
B = Annotated[Backends, Depends(backends)]


@router.get("/firmware/images")
async def list_images(
    caller: Viewer,
    b: B,
    vendor: str | None = None,
    model: str | None = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> dict[str, Any]:
    request = build(
        pb.ListImagesRequest,
        {"vendor": vendor, "model": model, "page": page(page_size, page_token)},
    )
    return to_json(await b.call("firmware", "ListImages", request, caller))


@router.post("/firmware/images", status_code=201)
async def add_image(
    caller: Operator, b: B, image: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    request = build(pb.AddImageRequest, {"image": image})
    return to_json(await b.call("firmware", "AddImage", request, caller))


@router.get("/firmware/campaigns")
async def list_campaigns(
    caller: Viewer, b: B, page_size: PageSize = 50, page_token: PageToken = None
) -> dict[str, Any]:
    request = build(pb.ListCampaignsRequest, {"page": page(page_size, page_token)})
    return to_json(await b.call("firmware", "ListCampaigns", request, caller))


@router.get("/firmware/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    request = pb.GetCampaignRequest(campaign_id=campaign_id)
    return to_json(await b.call("firmware", "GetCampaign", request, caller))


@router.post("/firmware/campaigns", status_code=201)
async def create_campaign(
    caller: Operator, b: B, campaign: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    request = build(pb.CreateCampaignRequest, {"campaign": campaign})
    return to_json(await b.call("firmware", "CreateCampaign", request, caller))


@router.post("/firmware/campaigns/{campaign_id}/{action}")
async def campaign_action(
    campaign_id: str, action: Literal["pause", "resume", "abort"], caller: Operator, b: B
) -> dict[str, Any]:
    method = {"pause": "PauseCampaign", "resume": "ResumeCampaign", "abort": "AbortCampaign"}
    request = pb.GetCampaignRequest(campaign_id=campaign_id)
    return to_json(await b.call("firmware", method[action], request, caller))


@router.get("/stations/{station_id}/firmware")
async def station_firmware(station_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    request = pb.GetStationUpdateRequest(station_id=station_id)
    return to_json(await b.call("firmware", "GetStationUpdate", request, caller))


@router.get("/logs")
async def list_logs(
    caller: Viewer,
    b: B,
    station_id: str | None = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
) -> dict[str, Any]:
    request = build(
        pb.ListLogsRequest, {"station_id": station_id, "page": page(page_size, page_token)}
    )
    return to_json(await b.call("firmware", "ListLogs", request, caller))


class LogRequestBody(BaseModel):
    kind: str = Field(default="", max_length=64, description="DiagnosticsLog, SecurityLog, ...")
    oldest: datetime | None = None
    latest: datetime | None = None


@router.post("/stations/{station_id}/logs", status_code=201)
async def request_logs(
    station_id: str, body: LogRequestBody, caller: Operator, b: B
) -> dict[str, Any]:
    """Asks the station to upload its diagnostics / log to the firmware service."""
    request = build(
        pb.RequestLogsRequest,
        {
            "station_id": station_id,
            "kind": body.kind,
            "oldest": rfc3339(body.oldest),
            "latest": rfc3339(body.latest),
        },
    )
    return to_json(await b.call("firmware", "RequestLogs", request, caller))


@router.get("/security-events")
async def list_security_events(
    caller: Viewer,
    b: B,
    station_id: str | None = None,
    type: str | None = None,
    since: Since = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
) -> dict[str, Any]:
    request = build(
        pb.ListSecurityEventsRequest,
        {
            "station_id": station_id,
            "type": type,
            "since": rfc3339(since),
            "page": page(page_size, page_token),
        },
    )
    return to_json(await b.call("firmware", "ListSecurityEvents", request, caller))
