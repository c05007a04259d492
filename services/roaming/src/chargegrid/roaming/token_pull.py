"""Pulling partners' token lists (tokens module, we are the receiver, GET of their SENDER):
on `chargegrid roaming tokens pull` and every `TOKENS_PULL_INTERVAL_S` when that is set.

Pushes keep a partner's tokens current; a pull catches what a partner never pushed (a list
built before it registered, pushes lost on its side). One partner's failure is reported and
does not stop the others.
"""

from __future__ import annotations

import asyncio

from chargegrid.platform.logging import get_logger
from chargegrid.roaming.client import PartnerCallFailed
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.partner_tokens import TokenRefused
from chargegrid.roaming.partners import REGISTERED

log = get_logger(__name__)


async def pull_tokens(ctx: RoamingContext, partner_id: str = "") -> list[tuple[str, int, str]]:
    """(partner id, tokens stored, error or "") for the partner, or for every registered one
    with a tokens SENDER endpoint."""
    partners = [
        p
        for p in await ctx.partners.all()
        if p.status == REGISTERED
        and p.endpoint("tokens", "SENDER")
        and (not partner_id or p.id == partner_id)
    ]
    pulled = []
    for partner in partners:
        try:
            stored = await tokens_of(ctx).pull(partner, ctx.client)
        except (PartnerCallFailed, TokenRefused) as exc:
            log.warning("token pull failed", partner=partner.id, error=str(exc))
            pulled.append((partner.id, 0, str(exc)[:500]))
            continue
        log.info("tokens pulled", partner=partner.id, tokens=stored)
        pulled.append((partner.id, stored, ""))
    return pulled


async def run_token_pulls(ctx: RoamingContext, interval_s: float) -> None:
    """Pull every partner's tokens every `interval_s` (the first round after one interval:
    a starting service already has what partners pushed)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await pull_tokens(ctx)
        except Exception as exc:  # the database was away: the next round pulls again
            log.warning("token pull round failed", error=repr(exc))
