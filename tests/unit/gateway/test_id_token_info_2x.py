"""What a 2.x station is told about a token (idTokenInfo), checked against the 2.0.1 schema:
its group (C09.FR.02), its personal message and the driver's language, and the status of a
token inside a TransactionEvent (C12.FR.03)."""

from __future__ import annotations

from datetime import UTC, datetime

from chargegrid.gateway.decisions import AuthDecision
from chargegrid.gateway.ocpp201 import transactions as tx2x
from chargegrid.gateway.ocpp201.core import id_token_info
from chargegrid.gateway.protocol.schemas import Direction, validate
from chargegrid.gateway.protocol.versions import OcppVersion
from tests.unit.gateway.test_authorization_in_events import context


def _valid(info: dict[str, object]) -> dict[str, object]:
    validate(OcppVersion.V201, "Authorize", Direction.RESPONSE, {"idTokenInfo": info})
    return info


def test_C09_FR_02_the_group_goes_out_as_group_id_token() -> None:
    info = _valid(id_token_info(AuthDecision("Accepted", group_id="HOUSE")))
    assert info["groupIdToken"] == {"idToken": "HOUSE", "type": "Central"}


def test_a_personal_message_goes_out_in_the_drivers_language() -> None:
    expiry = datetime(2027, 1, 1, tzinfo=UTC)
    decision = AuthDecision(
        "Accepted", expiry, personal_message="Welkom terug, Anna", language="nl"
    )
    info = _valid(id_token_info(decision))
    assert info == {
        "status": "Accepted",
        "cacheExpiryDateTime": "2027-01-01T00:00:00Z",
        "language1": "nl",
        "personalMessage": {"format": "UTF8", "content": "Welkom terug, Anna", "language": "nl"},
    }


def test_a_message_without_a_language_leaves_the_language_to_the_station() -> None:
    info = _valid(id_token_info(AuthDecision("Blocked", personal_message="Call us")))
    assert info == {
        "status": "Blocked",
        "personalMessage": {"format": "UTF8", "content": "Call us"},
    }


def test_a_token_without_either_gets_neither() -> None:
    assert _valid(id_token_info(AuthDecision("Invalid"))) == {"status": "Invalid"}


async def test_C12_FR_03_the_csms_checks_a_cached_token_inside_the_transaction_event() -> None:
    # The station started from its cache (no Authorize): the CSMS still decides, and says
    # Invalid for a card it does not accept.
    payload = {
        "eventType": "Updated",
        "timestamp": "2026-03-02T08:01:00Z",
        "triggerReason": "Authorized",
        "seqNo": 1,
        "transactionInfo": {"transactionId": "T1"},
        "idToken": {"idToken": "NOBODY", "type": "ISO14443"},
    }
    outcome = await tx2x.transaction_event_2x(context(OcppVersion.V201), payload)
    validate(OcppVersion.V201, "TransactionEvent", Direction.RESPONSE, outcome.response)
    assert outcome.response["idTokenInfo"] == {"status": "Invalid"}


def test_C10_the_cache_lifetime_the_csms_chose_goes_out_as_cache_expiry() -> None:
    token_expiry = datetime(2027, 1, 1, tzinfo=UTC)
    cache_until = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    info = _valid(id_token_info(AuthDecision("Accepted", token_expiry, cache_expiry=cache_until)))
    assert info["cacheExpiryDateTime"] == "2026-12-07T16:00:00Z"
