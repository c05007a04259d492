"""Who is calling: the partner behind `Authorization: Token ...`, checked per module.

Token A opens only versions and credentials (the registration handshake); every other module
needs a REGISTERED partner whose allowed modules include it. A missing or unknown token is
HTTP 401 with OCPI status 2001; a module the partner may not use is HTTP 403 (2000).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request

from chargegrid.roaming.ocpi import tokens
from chargegrid.roaming.ocpi.status import forbidden, unauthorized
from chargegrid.roaming.partners import REGISTERED, SUSPENDED, Partner, PartnerStore


@dataclass(frozen=True)
class Caller:
    partner: Partner
    #: The request carried the registration token A (not yet the partner's own token).
    with_token_a: bool


def store_of(request: Request) -> PartnerStore:
    return request.app.state.context.partners  # type: ignore[no-any-return]


async def caller_of(request: Request) -> Caller:
    """The authenticated caller of any OCPI endpoint (token A or the partner's own)."""
    candidates = tokens.header_candidates(request.headers.get("Authorization"))
    if not candidates:
        raise unauthorized("missing Authorization: Token header")
    found = await store_of(request).by_token(candidates)
    if found is None:
        raise unauthorized("unknown credentials token")
    partner, with_token_a = found
    if partner.status == SUSPENDED:
        raise unauthorized("this partner is suspended")
    request.state.partner = partner
    return Caller(partner, with_token_a)


def partner_for(module: str) -> Callable[[Request], Awaitable[Partner]]:
    """A FastAPI dependency: the registered partner allowed `module`, else 401/403."""

    async def dependency(request: Request) -> Partner:
        caller = await caller_of(request)
        if caller.with_token_a or caller.partner.status != REGISTERED:
            raise unauthorized("credentials token not valid for this module: register first")
        if not caller.partner.may_use(module):
            raise forbidden(f"module {module} is not allowed for partner {caller.partner.id}")
        return caller.partner

    return dependency
