"""The station side of block C the CSMS tests lean on: what a card's idTokenInfo teaches
the station (group, personal message, cache lifetime) and the cache honouring it (C10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargegrid.simulator.cards import CardMemory, ShownMessage
from chargegrid.simulator.local_auth import AuthCache

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def test_a_card_answer_teaches_its_group_message_language_and_cache_lifetime() -> None:
    cards = CardMemory()
    cards.learn(
        "Anna",
        {
            "status": "Accepted",
            "group_id_token": {"id_token": "HOUSE", "type": "Central"},
            "cache_expiry_date_time": "2026-12-07T16:00:00Z",
            "language1": "nl",
            "personal_message": {"format": "UTF8", "content": "Hoi", "language": "nl"},
        },
    )
    assert cards.group("ANNA") == "HOUSE"
    assert cards.cache_until("anna") == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    assert cards.language == {"anna": "nl"}
    assert cards.shown == [ShownMessage("Anna", "Hoi", "nl")]
    cards.learn("anna", {"status": "Blocked"})
    assert (cards.group("anna"), cards.cache_until("anna")) == ("", None)


def test_C10_a_cached_answer_past_its_cache_expiry_is_dropped_so_the_station_asks_again() -> None:
    cache = AuthCache()
    cache.remember("CARD", "Accepted", NOW + timedelta(minutes=10))
    cache.remember("OLD", "Accepted")
    assert cache.status_of("card", NOW) == "Accepted"
    assert cache.status_of("card", NOW + timedelta(minutes=10)) is None
    assert cache.status_of("card", NOW) is None  # gone, not only hidden
    assert cache.status_of("old", NOW + timedelta(days=365)) == "Accepted"
