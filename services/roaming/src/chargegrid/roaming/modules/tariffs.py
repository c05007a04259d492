"""tariffs module, SENDER (mod_tariffs.asciidoc): GET the list, paged, date_from/date_to."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.requests import Request

from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.ocpi.auth import partner_for
from chargegrid.roaming.ocpi.paging import page_of, paged_response
from chargegrid.roaming.ocpi.registry import Module
from chargegrid.roaming.partners import Partner
from chargegrid.roaming.tariffs.store import TariffStore

router = APIRouter()


@router.get("")
async def list_tariffs(
    request: Request,
    partner: Partner = Depends(partner_for("tariffs")),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    page = page_of(request, ctx.settings.page_default_limit, ctx.settings.page_max_limit)
    store: TariffStore = ctx.services["tariffs"]
    items, total = await store.page(page)
    return paged_response(request, items, total, page)


MODULE = Module("tariffs", "SENDER", router)
