"""H03: a transaction that names its reservation tells the registry (station.reservation_used
on station.events.v1), from 2.x TransactionEvent and 1.6 StartTransaction alike."""

from __future__ import annotations

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.gateway.ocpp16 import transactions as tx16
from chargegrid.gateway.ocpp201 import transactions as tx2x
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.routing import Outcome
from chargegrid.platform.bus.topics import STATION_EVENTS
from tests.unit.gateway.test_authorization_in_events import context


def _used(outcome: Outcome) -> list[station_events.ReservationUsed]:
    found = [e for e in outcome.events if e.type == "station.reservation_used"]
    assert all(e.topic == STATION_EVENTS for e in found)
    return [e.payload for e in found]  # type: ignore[misc]


def _started_2x(**more: object) -> dict[str, object]:
    return {
        "eventType": "Started",
        "timestamp": "2026-03-02T08:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "T1"},
        "evse": {"id": 2, "connectorId": 1},
        **more,
    }


async def test_H03_a_2x_start_on_a_reservation_reports_it_used() -> None:
    outcome = await tx2x.transaction_event_2x(
        context(OcppVersion.V201), _started_2x(reservationId=31)
    )
    (used,) = _used(outcome)
    assert (used.reservation_id, used.transaction_id, used.evse_id) == (31, "T1", 2)
    assert outcome.events[0].type == "transaction.started"


async def test_H03_a_2x_start_without_a_reservation_reports_none() -> None:
    assert _used(await tx2x.transaction_event_2x(context(OcppVersion.V201), _started_2x())) == []


async def test_H03_a_16_start_on_a_reservation_reports_it_used() -> None:
    payload = {
        "connectorId": 1,
        "idTag": "ROAMER",
        "meterStart": 0,
        "timestamp": "2026-03-02T08:00:00Z",
        "reservationId": 8,
    }
    (used,) = _used(await tx16.start_transaction(context(OcppVersion.V16), payload))
    assert (used.reservation_id, used.transaction_id, used.evse_id) == (8, "7", 1)
