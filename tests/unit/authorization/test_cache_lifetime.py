"""C10 on the CSMS side: how long a station may answer from its authorization cache is the
CSMS's to say (cacheExpiryDateTime), so a card blocked here stops working offline in time."""

from __future__ import annotations

from datetime import timedelta

from chargegrid.authorization.authorizer import Authorizer
from chargegrid.authorization.domain import Token
from chargegrid.authorization.engine import DecisionEngine
from tests.unit.authorization.builders import NOW, a_query, a_token
from tests.unit.authorization.test_authorizer import FakeSites, ListAudit


def _authorizer(lifetime_s: float, *tokens: Token) -> Authorizer:
    engine = DecisionEngine()
    engine.load(tokens, [])
    return Authorizer(engine, FakeSites({}), ListAudit(), lambda: NOW, cache_lifetime_s=lifetime_s)


async def test_C10_an_accepted_card_may_be_cached_for_the_configured_lifetime() -> None:
    authorizer = _authorizer(3600, a_token("CARD"))
    decision = await authorizer.authorize(a_query("CARD"))
    assert (decision.status, decision.cache_expires_at) == ("Accepted", NOW + timedelta(hours=1))


async def test_C10_a_card_expiring_sooner_is_cached_only_until_its_expiry() -> None:
    soon = NOW + timedelta(minutes=5)
    decision = await _authorizer(3600, a_token("CARD", expires_at=soon)).authorize(a_query("CARD"))
    assert (decision.cache_expires_at, decision.expires_at) == (soon, soon)


async def test_C10_refusals_and_a_zero_lifetime_say_nothing_about_the_cache() -> None:
    blocked = a_token("LOST", status="Blocked")
    assert (await _authorizer(3600, blocked).authorize(a_query("LOST"))).cache_expires_at is None
    unset = await _authorizer(0, a_token("CARD")).authorize(a_query("CARD"))
    assert unset.cache_expires_at is None
