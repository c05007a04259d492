"""The authorization decision rides on the events: refusals, token groups and sources.

Analytics counts refused tokens as failed starts and splits users by group and by roaming vs
own; it learns both only from what the gateway publishes here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.gateway.clock import Sources
from chargegrid.gateway.decisions import (
    AuthDecision,
    AuthRequest,
    BootDecision,
    BootRequest,
    StartAttempt,
)
from chargegrid.gateway.ocpp16 import core as core16
from chargegrid.gateway.ocpp16 import transactions as tx16
from chargegrid.gateway.ocpp201 import core as core2x
from chargegrid.gateway.ocpp201 import transactions as tx2x
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.routing import CallContext, Outcome, StationInfo

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Answers:
    """Accepts ROAMER (a partner's fleet card) and refuses everything else as Invalid."""

    async def boot(self, request: BootRequest) -> BootDecision:
        return BootDecision("Accepted", 60)

    async def authorize(self, request: AuthRequest) -> AuthDecision:
        if request.id_token == "ROAMER":
            return AuthDecision("Accepted", None, "FLEET-9", "ocpi:DE-ABC")
        return AuthDecision("Invalid")

    async def transaction_id(
        self, station_id: str, connector_id: int = 0, attempt: StartAttempt | None = None
    ) -> int:
        return 7

    async def total_cost(self, station_id: str, transaction_id: str) -> Decimal | None:
        return None


def context(version: OcppVersion) -> CallContext:
    station = StationInfo("CP1", version, "pod-a", "127.0.0.1", NOW)
    return CallContext(station, "u1", NOW, Answers(), Sources())


def authorized(outcome: Outcome) -> tx_events.TokenAuthorized:
    (emit,) = [e for e in outcome.events if e.type == "transaction.authorized"]
    assert isinstance(emit.payload, tx_events.TokenAuthorized)
    return emit.payload


async def test_a_refused_16_authorize_is_published_as_a_refusal() -> None:
    outcome = await core16.authorize(context(OcppVersion.V16), {"idTag": "NOBODY"})
    event = authorized(outcome)
    assert (event.id_token.id, event.id_token.type, event.authorization_status) == (
        "NOBODY",
        "IdTag",
        "Invalid",
    )
    assert outcome.response["idTagInfo"]["status"] == "Invalid"


async def test_a_2x_authorize_carries_the_tokens_group_and_source() -> None:
    payload = {"idToken": {"idToken": "ROAMER", "type": "eMAID"}}
    event = authorized(await core2x.authorize(context(OcppVersion.V201), payload))
    assert (event.authorization_status, event.group_id, event.token_source) == (
        "Accepted",
        "FLEET-9",
        "ocpi:DE-ABC",
    )


async def test_a_16_start_carries_the_decisions_group_and_source() -> None:
    payload = {
        "connectorId": 1,
        "idTag": "ROAMER",
        "meterStart": 0,
        "timestamp": "2026-03-02T08:00:00Z",
    }
    outcome = await tx16.start_transaction(context(OcppVersion.V16), payload)
    started = outcome.events[0].payload
    assert isinstance(started, tx_events.TransactionStarted)
    assert (started.group_id, started.token_source) == ("FLEET-9", "ocpi:DE-ABC")


async def test_a_token_refused_inside_a_2x_transaction_is_on_the_update() -> None:
    payload = {
        "eventType": "Updated",
        "timestamp": "2026-03-02T08:01:00Z",
        "triggerReason": "Authorized",
        "seqNo": 1,
        "transactionInfo": {"transactionId": "T1"},
        "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "NOBODY", "type": "ISO14443"},
    }
    outcome = await tx2x.transaction_event_2x(context(OcppVersion.V201), payload)
    updated = outcome.events[0].payload
    assert isinstance(updated, tx_events.TransactionUpdated)
    assert (updated.authorization_status, updated.group_id, updated.token_source) == (
        "Invalid",
        "",
        "",
    )
