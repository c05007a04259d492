"""The fallback cache keeps what a token is, never what was true only of one moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargegrid.gateway.decisions import AuthDecision, AuthorizationCache

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class Clocks:
    def __init__(self) -> None:
        self.monotonic = 0.0
        self.wall = NOW

    def pass_(self, seconds: float) -> None:
        self.monotonic += seconds
        self.wall += timedelta(seconds=seconds)


def a_cache(clocks: Clocks, ttl_s: float = 300) -> AuthorizationCache:
    return AuthorizationCache(ttl_s, lambda: clocks.monotonic, lambda: clocks.wall)


@pytest.mark.parametrize("status", ["Accepted", "Blocked", "Expired", "Invalid"])
def test_what_a_token_is_is_remembered(status: str) -> None:
    cache = a_cache(Clocks())
    cache.remember("TAG", "", AuthDecision(status))
    assert cache.recall("TAG", "") == AuthDecision(status)


@pytest.mark.parametrize("status", ["ConcurrentTx", "NotAtThisLocation", "Unknown"])
def test_an_answer_about_the_moment_is_not_cached_and_keeps_the_earlier_one(status: str) -> None:
    cache = a_cache(Clocks())
    assert cache.recall("TAG", "") is None
    cache.remember("TAG", "", AuthDecision(status))
    assert cache.recall("TAG", "") is None
    cache.remember("TAG", "", AuthDecision("Accepted"))
    cache.remember("TAG", "", AuthDecision(status))
    assert cache.recall("TAG", "") == AuthDecision("Accepted")


def test_an_accepted_token_past_its_expiry_is_recalled_expired() -> None:
    clocks = Clocks()
    cache = a_cache(clocks)
    expiry = NOW + timedelta(seconds=60)
    cache.remember("TAG", "", AuthDecision("Accepted", expiry, "FLEET"))
    assert cache.recall("TAG", "") == AuthDecision("Accepted", expiry, "FLEET")
    clocks.pass_(61)
    assert cache.recall("TAG", "") == AuthDecision("Expired", expiry, "FLEET")


def test_nothing_is_recalled_after_the_cache_ttl() -> None:
    clocks = Clocks()
    cache = a_cache(clocks, ttl_s=10)
    cache.remember("TAG", "", AuthDecision("Accepted"))
    clocks.pass_(11)
    assert cache.recall("TAG", "") is None
