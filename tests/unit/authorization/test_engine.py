"""Every rule of the in-memory decision engine, one sentence each."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from chargegrid.authorization.domain import ActiveTransaction, AuthorizeQuery, Decision, Token
from chargegrid.authorization.engine import DecisionEngine
from tests.unit.authorization.builders import NOW, a_query, a_token, a_transaction, later


def decide(
    engine: DecisionEngine, query: AuthorizeQuery | None = None, site: str | None = "SITE-A"
) -> Decision:
    query = query or a_query()
    token = engine.find(query.id_token, query.token_type)
    assert token is not None
    return engine.decide(query, token, site, NOW)


def engine_with(*tokens: Token, transactions: Iterable[ActiveTransaction] = ()) -> DecisionEngine:
    engine = DecisionEngine()
    engine.load(tokens, transactions)
    return engine


def test_an_accepted_token_is_accepted_with_its_expiry_and_group() -> None:
    engine = engine_with(a_token(expires_at=later(3600), group_id="FLEET"), a_token("FLEET"))
    decision = decide(engine)
    assert decision == Decision("Accepted", "accepted", later(3600), "FLEET", "local")


def test_a_decision_names_the_tokens_source_so_roaming_is_told_from_own() -> None:
    engine = engine_with(a_token(source="ocpi:NL-XYZ"))
    assert decide(engine).source == "ocpi:NL-XYZ"


def test_an_untyped_16_idtag_matches_whatever_type_it_is_stored_as() -> None:
    engine = engine_with(a_token(type="eMAID"))
    assert engine.find("TAG-1", "") is not None
    assert engine.find("TAG-1", "IdTag") is not None
    assert engine.find("TAG-1", "ISO14443") is None


def test_an_untyped_idtag_stored_under_several_types_prefers_iso14443() -> None:
    engine = engine_with(a_token(type="eMAID", status="Blocked"), a_token(type="ISO14443"))
    assert decide(engine).status == "Accepted"


def test_a_typed_2x_token_must_match_its_type_in_any_case() -> None:
    engine = engine_with(a_token(type="eMAID"))
    assert engine.find("TAG-1", "emaid") is not None
    assert engine.find("TAG-1", "Central") is None
    assert engine.find("TAG-1", "NotAType") is None


@pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid"])
def test_a_stored_status_other_than_accepted_is_the_answer(status: str) -> None:
    decision = decide(engine_with(a_token(status=status)))
    assert (decision.status, decision.reason) == (status, status.lower())


def test_a_token_past_its_expiry_is_expired() -> None:
    decision = decide(engine_with(a_token(expires_at=later(-1))))
    assert (decision.status, decision.reason) == ("Expired", "expired")


@pytest.mark.parametrize(
    ("group", "reason"),
    [
        (a_token("FLEET", status="Blocked"), "group_blocked"),
        (a_token("FLEET", status="Expired"), "group_expired"),
        (a_token("FLEET", expires_at=later(-60)), "group_expired"),
    ],
)
def test_a_blocked_or_expired_group_blocks_its_members(group: Token, reason: str) -> None:
    decision = decide(engine_with(a_token(group_id="FLEET"), group))
    assert (decision.status, decision.reason) == ("Blocked", reason)
    assert decision.group_id == "FLEET"


def test_an_unknown_group_blocks_nobody() -> None:
    assert decide(engine_with(a_token(group_id="NOBODY"))).status == "Accepted"


def test_a_site_bound_token_is_accepted_on_its_sites_only() -> None:
    engine = engine_with(a_token(allowed_site_ids=("SITE-A", "SITE-B")))
    assert decide(engine, site="SITE-B").status == "Accepted"
    elsewhere = decide(engine, site="SITE-C")
    assert (elsewhere.status, elsewhere.reason) == ("NotAtThisLocation", "not_at_site")


def test_a_site_bound_token_is_refused_where_the_site_is_unknown() -> None:
    decision = decide(engine_with(a_token(allowed_site_ids=("SITE-A",))), site=None)
    assert (decision.status, decision.reason) == ("NotAtThisLocation", "site_unknown")


def test_a_token_in_another_transaction_is_concurrent_for_authorize_and_start() -> None:
    engine = engine_with(a_token(), transactions=[a_transaction(transaction_id="tx-9")])
    assert decide(engine, a_query(purpose="authorize")).status == "ConcurrentTx"
    assert decide(engine, a_query(purpose="start", transaction_id="tx-10")).status == (
        "ConcurrentTx"
    )


def test_a_token_is_not_its_own_concurrent_transaction() -> None:
    engine = engine_with(a_token(), transactions=[a_transaction(transaction_id="tx-9")])
    assert decide(engine, a_query(purpose="start", transaction_id="tx-9")).status == "Accepted"


def test_a_token_inside_its_running_transaction_is_not_concurrent() -> None:
    engine = engine_with(a_token(), transactions=[a_transaction(transaction_id="tx-9")])
    assert decide(engine, a_query(purpose="transaction")).status == "Accepted"


def test_an_ended_transaction_frees_the_token() -> None:
    engine = engine_with(a_token(), transactions=[a_transaction()])
    engine.apply_transaction(a_transaction(ended=True, updated_at=later(1)))
    assert decide(engine).status == "Accepted"
    assert not engine.is_active("CP-1", "tx-1")


def test_blocked_wins_over_concurrent() -> None:
    engine = engine_with(a_token(status="Blocked"), transactions=[a_transaction()])
    assert decide(engine).status == "Blocked"


def test_an_older_write_never_replaces_a_newer_one() -> None:
    engine = engine_with(a_token(status="Blocked", updated_at=later(10)))
    assert engine.apply_token(a_token(status="Accepted", updated_at=later(5))) is False
    assert decide(engine).status == "Blocked"


def test_a_deleted_token_is_gone_and_a_stale_copy_does_not_bring_it_back() -> None:
    engine = engine_with(a_token())
    engine.apply_token(a_token(deleted=True, updated_at=later(10)))
    assert engine.find("TAG-1") is None
    engine.apply_token(a_token(updated_at=later(5)))
    assert engine.find("TAG-1") is None
    engine.apply_token(a_token(updated_at=later(20)))
    assert engine.find("TAG-1") is not None
    assert len(engine) == 1


def three_sessions() -> list[ActiveTransaction]:
    return [a_transaction(station_id=f"CP-{n}", transaction_id=f"tx-{n}") for n in (1, 2, 3)]


def test_a_fleet_card_holds_as_many_transactions_as_its_limit_and_no_more() -> None:
    engine = engine_with(a_token(max_concurrent_transactions=3), transactions=three_sessions()[:2])
    assert decide(engine, a_query(station_id="CP-3", purpose="start")).status == "Accepted"
    engine.apply_transaction(three_sessions()[2])
    assert decide(engine, a_query(station_id="CP-4", purpose="start")).status == "ConcurrentTx"


def test_a_card_without_a_limit_takes_its_groups_and_else_one() -> None:
    fleet = a_token("FLEET", max_concurrent_transactions=3)
    member = a_token(group_id="FLEET")
    engine = engine_with(fleet, member, transactions=three_sessions()[:2])
    assert decide(engine, a_query(station_id="CP-3")).status == "Accepted"
    alone = engine_with(a_token(), transactions=three_sessions()[:1])
    assert decide(alone, a_query(station_id="CP-2")).status == "ConcurrentTx"


def test_a_start_on_the_evse_of_a_lost_session_does_not_count_it() -> None:
    lost = a_transaction(transaction_id="tx-lost", evse_id=1)
    engine = engine_with(a_token(), transactions=[lost])
    again = a_query(purpose="start", transaction_id="tx-new", evse_id=1)
    assert decide(engine, again).status == "Accepted"
    elsewhere = a_query(purpose="start", transaction_id="tx-new", evse_id=2)
    assert decide(engine, elsewhere).status == "ConcurrentTx"
