"""tokens module (we are the RECEIVER; mod_tokens.asciidoc): partners push their tokens.

PUT stores a Token object whole, PATCH merges fields into a stored one (with last_updated),
GET returns what we hold. The path's country code and party id must be the partner's own and
match the body; `type` defaults to RFID as the module says. Every refusal is an OCPI error
and leaves what was stored untouched.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.ocpi.auth import partner_for
from chargegrid.roaming.ocpi.envelope import envelope
from chargegrid.roaming.ocpi.registry import RECEIVER, Module
from chargegrid.roaming.ocpi.status import Status, invalid, not_found
from chargegrid.roaming.partner_tokens import PartnerTokens, TokenRefused, UnknownToken
from chargegrid.roaming.partners import Partner
from chargegrid.roaming.token_models import OcpiToken, TokenType

router = APIRouter()
NAME = "tokens"


def tokens_of(ctx: RoamingContext) -> PartnerTokens:
    found = ctx.services.get(NAME)
    if found is None:
        found = ctx.services[NAME] = PartnerTokens(ctx.sessions)
    return found


def _object(stored: Any) -> dict[str, Any]:
    return json.loads(stored.token.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


@router.get("/{country_code}/{party_id}/{uid}")
async def get_token(
    country_code: str,
    party_id: str,
    uid: str,
    type: TokenType = TokenType.RFID,
    partner: Partner = Depends(partner_for(NAME)),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    store = tokens_of(ctx)
    try:
        store.check_party(partner, country_code, party_id)
        stored = await store.get(country_code, party_id, uid, type.value)
    except TokenRefused as exc:
        raise invalid(str(exc)) from None
    except UnknownToken as exc:
        raise not_found(str(exc), Status.UNKNOWN_TOKEN) from None
    return JSONResponse(envelope(_object(stored)))


@router.put("/{country_code}/{party_id}/{uid}")
async def put_token(
    country_code: str,
    party_id: str,
    uid: str,
    token: OcpiToken,
    type: TokenType = TokenType.RFID,
    partner: Partner = Depends(partner_for(NAME)),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    # CiStrings: the URL and the body may spell the ids in different cases.
    if (token.country_code.upper(), token.party_id.upper(), token.uid.upper(), token.type) != (
        country_code.upper(),
        party_id.upper(),
        uid.upper(),
        type,
    ):
        raise invalid("country_code, party_id, uid and type of the body must match the URL")
    try:
        await tokens_of(ctx).put(partner, token)
    except TokenRefused as exc:
        raise invalid(str(exc)) from None
    return JSONResponse(envelope())


@router.patch("/{country_code}/{party_id}/{uid}")
async def patch_token(
    country_code: str,
    party_id: str,
    uid: str,
    changes: dict[str, Any] = Body(...),
    type: TokenType = TokenType.RFID,
    partner: Partner = Depends(partner_for(NAME)),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    try:
        await tokens_of(ctx).patch(partner, country_code, party_id, uid, type.value, changes)
    except TokenRefused as exc:
        raise invalid(str(exc)) from None
    except UnknownToken as exc:
        raise not_found(str(exc), Status.UNKNOWN_TOKEN) from None
    return JSONResponse(envelope())


MODULE = Module(identifier=NAME, role=RECEIVER, router=router)
