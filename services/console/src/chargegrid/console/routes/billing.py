"""CDRs (with CSV export) and tariffs, from the billing service. Tariff changes are admin's."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import StreamingResponse

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.console.auth import Caller, admin, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import build, to_json
from chargegrid.console.deps import backends
from chargegrid.console.problems import Problem
from chargegrid.console.routes.params import (
    INT32_MAX,
    PageSize,
    PageToken,
    Since,
    Until,
    page,
    rfc3339,
)

router = APIRouter(tags=["CDRs and tariffs"])
Viewer = Annotated[Caller, Depends(viewer)]
Admin = Annotated[Caller, Depends(admin)]
B = Annotated[Backends, Depends(backends)]
CSV_COLUMNS = (
    "id", "session_id", "station_id", "site_id", "id_token", "started_at", "ended_at",
    "energy_kwh", "total_time_s", "charging_time_s", "parking_time_s", "currency",
    "total_excl_vat", "total_vat", "total_incl_vat", "tariff_id", "tariff_version",
)  # fmt: skip


def _cdr_filters(
    station_id: str | None, site_id: str | None, id_token: str | None, since: Any, until: Any
) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "site_id": site_id,
        "id_token": id_token,
        "since": rfc3339(since),
        "until": rfc3339(until),
    }


@router.get("/cdrs")
async def list_cdrs(
    caller: Viewer,
    b: B,
    station_id: str | None = None,
    site_id: str | None = None,
    id_token: str | None = None,
    since: Since = None,
    until: Until = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
) -> dict[str, Any]:
    filters = _cdr_filters(station_id, site_id, id_token, since, until)
    request = build(pb.ListCdrsRequest, {**filters, "page": page(page_size, page_token)})
    return to_json(await b.call("billing", "ListCdrs", request, caller))


def _csv_row(cdr: pb.Cdr) -> list[str]:
    def when(field: Literal["started_at", "ended_at"]) -> str:
        return getattr(cdr, field).ToJsonString() if cdr.HasField(field) else ""

    cost = cdr.cost
    return [
        cdr.id, cdr.session_id, cdr.station_id, cdr.site_id, cdr.id_token.id,
        when("started_at"), when("ended_at"), cdr.energy_kwh, str(cdr.total_time_s),
        str(cdr.charging_time_s), str(cdr.parking_time_s), cost.currency, cost.total_excl_vat,
        cost.total_vat, cost.total_incl_vat, cost.tariff_id, str(cost.tariff_version),
    ]  # fmt: skip


def _csv_line(values: list[str] | tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue().encode()


@router.get(
    "/cdrs/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_cdrs(
    caller: Viewer,
    b: B,
    station_id: str | None = None,
    site_id: str | None = None,
    id_token: str | None = None,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    """Every CDR matching the filters as CSV (read page by page while it streams)."""
    filters = _cdr_filters(station_id, site_id, id_token, since, until)
    # The first page is read before answering, so a bad filter or a down service is a
    # proper problem response rather than a broken download.
    first = await b.call(
        "billing", "ListCdrs", build(pb.ListCdrsRequest, {**filters, "page": page(500, "")}), caller
    )

    async def rows() -> AsyncIterator[bytes]:
        reply = first
        yield _csv_line(CSV_COLUMNS)
        while True:
            for cdr in reply.cdrs:
                yield _csv_line(_csv_row(cdr))
            if not reply.next_page_token:
                return
            request = build(
                pb.ListCdrsRequest, {**filters, "page": page(500, reply.next_page_token)}
            )
            reply = await b.call("billing", "ListCdrs", request, caller)

    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cdrs.csv"'},
    )


@router.get("/cdrs/{cdr_id}")
async def get_cdr(cdr_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    return to_json(await b.call("billing", "GetCdr", pb.GetCdrRequest(cdr_id=cdr_id), caller))


@router.get("/tariffs")
async def list_tariffs(
    caller: Viewer, b: B, page_size: PageSize = 100, page_token: PageToken = None
) -> dict[str, Any]:
    request = build(pb.ListTariffsRequest, {"page": page(page_size, page_token)})
    return to_json(await b.call("billing", "ListTariffs", request, caller))


@router.get("/tariffs/{tariff_id}")
async def get_tariff(
    tariff_id: str,
    caller: Viewer,
    b: B,
    version: Annotated[int, Query(ge=0, le=INT32_MAX, description="0 = the current version")] = 0,
) -> dict[str, Any]:
    request = pb.GetTariffRequest(tariff_id=tariff_id, version=version)
    return to_json(await b.call("billing", "GetTariff", request, caller))


@router.post("/tariffs", status_code=201)
async def create_tariff(
    caller: Admin, b: B, tariff: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    request = build(pb.CreateTariffRequest, {"tariff": tariff})
    return to_json(await b.call("billing", "CreateTariff", request, caller))


@router.put("/tariffs/{tariff_id}")
async def update_tariff(
    tariff_id: str, caller: Admin, b: B, tariff: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    if tariff.get("id", tariff_id) != tariff_id:
        raise Problem(422, "tariff.id differs from the id in the path")
    request = build(pb.UpdateTariffRequest, {"tariff": {**tariff, "id": tariff_id}})
    return to_json(await b.call("billing", "UpdateTariff", request, caller))
