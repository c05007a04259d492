"""Shorthands for the events handlers emit, shared by every OCPP version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from google.protobuf.message import Message

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.gateway.decisions import AuthDecision
from chargegrid.gateway.routing import Emit
from chargegrid.platform.bus.topics import STATION_EVENTS, TRANSACTION_EVENTS


def station_event(kind: str, payload: Message, occurred_at: datetime | None = None) -> Emit:
    return Emit(STATION_EVENTS, f"station.{kind}", payload, occurred_at)


def transaction_event(kind: str, payload: Message, occurred_at: datetime | None = None) -> Emit:
    return Emit(TRANSACTION_EVENTS, f"transaction.{kind}", payload, occurred_at)


def notification(action: str, payload: dict[str, Any]) -> Emit:
    """Keep a notification nothing normalizes yet, as JSON, for the services that want it."""
    message = station_events.NotificationReceived(
        action=action, payload_json=orjson.dumps(payload).decode()
    )
    return station_event("notification", message)


def reservation_used(
    reservation_id: int, transaction_id: str, evse_id: int, occurred_at: datetime | None = None
) -> Emit:
    """A transaction named the reservation it used (2.0.1 H03), for the registry."""
    message = station_events.ReservationUsed(
        reservation_id=reservation_id, transaction_id=transaction_id, evse_id=evse_id
    )
    return station_event("reservation_used", message, occurred_at)


def id_token(token: str, token_type: str) -> tx_events.IdToken:
    return tx_events.IdToken(id=token, type=token_type)


def token_authorized(token: str, token_type: str, decision: AuthDecision) -> Emit:
    """An Authorize answered: a refusal is a failed start to analytics."""
    message = tx_events.TokenAuthorized(
        id_token=id_token(token, token_type),
        authorization_status=decision.status,
        group_id=decision.group_id or "",
        token_source=decision.source,
    )
    return transaction_event("authorized", message)
