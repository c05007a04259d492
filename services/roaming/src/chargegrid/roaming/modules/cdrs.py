"""cdrs module (we are the SENDER; mod_cdrs.asciidoc): the CDRs of partners' drivers.

Each CDR is POSTed once by `chargegrid.roaming.flows.pushes`; here a partner GETs its CDRs
(paged, date_from / date_to on when we created them).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.requests import Request

from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.flows.listing import page_of_partner
from chargegrid.roaming.flows.rows import RoamingCdrRow
from chargegrid.roaming.ocpi.auth import partner_for
from chargegrid.roaming.ocpi.paging import page_of, paged_response
from chargegrid.roaming.ocpi.registry import SENDER, Module
from chargegrid.roaming.partners import Partner

router = APIRouter()
NAME = "cdrs"


@router.get("")
async def list_cdrs(
    request: Request,
    partner: Partner = Depends(partner_for(NAME)),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    page = page_of(request, ctx.settings.page_default_limit, ctx.settings.page_max_limit)
    items, total = await page_of_partner(ctx.sessions, RoamingCdrRow, partner.id, page)
    return paged_response(request, items, total, page)


MODULE = Module(identifier=NAME, role=SENDER, router=router)
