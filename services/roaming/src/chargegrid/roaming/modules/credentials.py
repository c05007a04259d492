"""credentials module (SENDER and RECEIVER; credentials.asciidoc): the handshake's HTTP side.

POST registers a partner holding token A, PUT rotates a registered partner's tokens, GET
returns our credentials with the token presented, DELETE unregisters. A POST by a registered
partner, or a PUT/DELETE by one that is not, is HTTP 405 as the module requires.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from chargegrid.roaming import registration
from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.ocpi import tokens
from chargegrid.roaming.ocpi.auth import Caller, caller_of
from chargegrid.roaming.ocpi.envelope import envelope
from chargegrid.roaming.ocpi.registry import Module
from chargegrid.roaming.ocpi.status import method_not_allowed
from chargegrid.roaming.partners import REGISTERED

router = APIRouter()


class BusinessDetails(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(max_length=100)


class CredentialsRole(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(pattern="^(CPO|EMSP|HUB|NAP|NSP|OTHER|SCSP)$")
    business_details: BusinessDetails
    party_id: str = Field(min_length=3, max_length=3)
    country_code: str = Field(min_length=2, max_length=2)


class Credentials(BaseModel):
    token: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=255, pattern="^https?://")
    roles: list[CredentialsRole] = Field(min_length=1)


def _roles(body: Credentials) -> list[dict[str, Any]]:
    return [role.model_dump() for role in body.roles]


@router.get("")
async def get_credentials(
    request: Request, caller: Caller = Depends(caller_of), ctx: RoamingContext = Depends(context_of)
) -> JSONResponse:
    presented = tokens.header_candidates(request.headers.get("Authorization"))
    return JSONResponse(envelope(registration.our_credentials(ctx, presented[0])))


@router.post("")
async def post_credentials(
    body: Credentials,
    caller: Caller = Depends(caller_of),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    if not caller.with_token_a:
        raise method_not_allowed("registered already: use PUT to update the credentials")
    answer = await registration.accept(ctx, caller.partner, body.token, body.url, _roles(body))
    return JSONResponse(envelope(answer))


@router.put("")
async def put_credentials(
    body: Credentials,
    caller: Caller = Depends(caller_of),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    if caller.with_token_a or caller.partner.status != REGISTERED:
        raise method_not_allowed("not registered: use POST to register")
    answer = await registration.accept(ctx, caller.partner, body.token, body.url, _roles(body))
    return JSONResponse(envelope(answer))


@router.delete("")
async def delete_credentials(
    caller: Caller = Depends(caller_of), ctx: RoamingContext = Depends(context_of)
) -> JSONResponse:
    if caller.with_token_a or caller.partner.status != REGISTERED:
        raise method_not_allowed("not registered")
    await registration.unregister(ctx, caller.partner)
    return JSONResponse(envelope())


MODULE = Module(
    "credentials", "SENDER", router, needs_registration=False, extra_roles=("RECEIVER",)
)
