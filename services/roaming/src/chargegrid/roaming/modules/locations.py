"""locations module, SENDER (mod_locations.asciidoc): GET the list (paged, date_from/date_to)
and GET one Location, EVSE or Connector. Unknown objects are 404 with 2003."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.locations.store import LocationStore
from chargegrid.roaming.ocpi.auth import partner_for
from chargegrid.roaming.ocpi.envelope import OcpiResponse, envelope
from chargegrid.roaming.ocpi.paging import page_of, paged_raw_response
from chargegrid.roaming.ocpi.registry import Module
from chargegrid.roaming.ocpi.status import not_found
from chargegrid.roaming.partners import Partner

router = APIRouter()
authorized = partner_for("locations")


def store_of(ctx: RoamingContext) -> LocationStore:
    return ctx.services["locations"]  # type: ignore[no-any-return]


async def _location(ctx: RoamingContext, location_id: str) -> dict[str, Any]:
    found = await store_of(ctx).location(location_id)
    if found is None:
        raise not_found(f"unknown location {location_id!r}")
    return found


def _evse(location: dict[str, Any], uid: str) -> dict[str, Any]:
    for evse in location["evses"]:
        if evse["uid"].upper() == uid.upper():  # CiStrings
            return evse  # type: ignore[no-any-return]
    raise not_found(f"unknown EVSE {uid!r} at location {location['id']!r}")


@router.get("")
async def list_locations(
    request: Request,
    partner: Partner = Depends(authorized),
    ctx: RoamingContext = Depends(context_of),
) -> Response:
    page = page_of(request, ctx.settings.page_default_limit, ctx.settings.page_max_limit)
    items, total = await store_of(ctx).page(page)
    return paged_raw_response(request, items, total, page)


@router.get("/{location_id}")
async def get_location(
    location_id: str,
    partner: Partner = Depends(authorized),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    return OcpiResponse(envelope(await _location(ctx, location_id)))


@router.get("/{location_id}/{evse_uid}")
async def get_evse(
    location_id: str,
    evse_uid: str,
    partner: Partner = Depends(authorized),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    return OcpiResponse(envelope(_evse(await _location(ctx, location_id), evse_uid)))


@router.get("/{location_id}/{evse_uid}/{connector_id}")
async def get_connector(
    location_id: str,
    evse_uid: str,
    connector_id: str,
    partner: Partner = Depends(authorized),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    evse = _evse(await _location(ctx, location_id), evse_uid)
    for connector in evse["connectors"]:
        if connector["id"].upper() == connector_id.upper():
            return OcpiResponse(envelope(connector))
    raise not_found(f"unknown connector {connector_id!r} of EVSE {evse_uid!r}")


MODULE = Module("locations", "SENDER", router)
