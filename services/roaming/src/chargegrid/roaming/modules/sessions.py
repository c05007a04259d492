"""sessions module (we are the SENDER; mod_sessions.asciidoc): partners' drivers' sessions.

Pushes come from `chargegrid.roaming.flows.pushes`; here a partner GETs its sessions (paged,
date_from / date_to) and PUTs charging preferences, which are answered at once: a session
of the partner's is answered NOT_POSSIBLE (stations are not steered by preferences here),
an unknown one is 2003 (HTTP 404), an invalid body 2001.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.requests import Request

from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.flows.listing import page_of_partner, session_of_partner
from chargegrid.roaming.flows.rows import RoamingSessionRow
from chargegrid.roaming.ocpi.auth import partner_for
from chargegrid.roaming.ocpi.envelope import envelope
from chargegrid.roaming.ocpi.paging import page_of, paged_response
from chargegrid.roaming.ocpi.registry import SENDER, Module
from chargegrid.roaming.ocpi.status import not_found
from chargegrid.roaming.partners import Partner

router = APIRouter()
NAME = "sessions"


class ChargingPreferences(BaseModel):
    profile_type: Literal["CHEAP", "FAST", "GREEN", "REGULAR"]
    departure_time: datetime | None = None
    energy_need: float | None = Field(default=None, ge=0)
    discharge_allowed: bool | None = None


@router.get("")
async def list_sessions(
    request: Request,
    partner: Partner = Depends(partner_for(NAME)),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    page = page_of(request, ctx.settings.page_default_limit, ctx.settings.page_max_limit)
    items, total = await page_of_partner(ctx.sessions, RoamingSessionRow, partner.id, page)
    return paged_response(request, items, total, page)


@router.put("/{session_id}/charging_preferences")
async def charging_preferences(
    session_id: str,
    preferences: ChargingPreferences,
    partner: Partner = Depends(partner_for(NAME)),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    if await session_of_partner(ctx.sessions, partner.id, session_id) is None:
        raise not_found(f"no session {session_id} of partner {partner.id}")
    return JSONResponse(envelope("NOT_POSSIBLE"))


MODULE = Module(identifier=NAME, role=SENDER, router=router)
