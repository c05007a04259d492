"""1.6 StartTransaction, MeterValues and StopTransaction as normalized transaction events."""

from __future__ import annotations

from typing import Any

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.gateway.decisions import AuthRequest, StartAttempt
from chargegrid.gateway.events import (
    id_token,
    reservation_used,
    station_event,
    transaction_event,
)
from chargegrid.gateway.normalize import add_samples_16, parse_time
from chargegrid.gateway.ocpp16.core import ID_TAG, status_16
from chargegrid.gateway.routing import CallContext, Outcome
from chargegrid.platform.bus.envelope import set_timestamp


async def start_transaction(context: CallContext, payload: dict[str, Any]) -> Outcome:
    connector = int(payload["connectorId"])
    started_at = parse_time(payload["timestamp"], context.received_at)
    attempt = StartAttempt(
        context.station_id, connector, payload["idTag"], started_at, float(payload["meterStart"])
    )
    transaction_id = await context.decisions.transaction_id(context.station_id, connector, attempt)
    decision = await context.decisions.authorize(
        AuthRequest(
            context.station_id,
            payload["idTag"],
            ID_TAG,
            purpose="start",
            transaction_id=str(transaction_id),
            evse_id=connector,
        )
    )
    event = tx_events.TransactionStarted(
        transaction_id=str(transaction_id),
        evse_id=connector,
        connector_id=connector,
        id_token=id_token(payload["idTag"], ID_TAG),
        meter_start_wh=float(payload["meterStart"]),
        trigger_reason="Authorized",
        authorization_status=decision.status,
        group_id=decision.group_id or "",
        token_source=decision.source,
    )
    set_timestamp(event.started_at, started_at)
    if "reservationId" in payload:
        event.reservation_id = int(payload["reservationId"])
    info: dict[str, Any] = {"status": status_16(decision.status)}
    if decision.group_id:
        info["parentIdTag"] = decision.group_id
    response = {"idTagInfo": info, "transactionId": transaction_id}
    events = [transaction_event("started", event, started_at)]
    if event.reservation_id:
        events.append(
            reservation_used(event.reservation_id, event.transaction_id, connector, started_at)
        )
    return Outcome(response, events)


async def meter_values(context: CallContext, payload: dict[str, Any]) -> Outcome:
    connector = int(payload["connectorId"])
    readings = payload["meterValue"]
    when = parse_time(readings[-1].get("timestamp"), context.received_at)
    if "transactionId" in payload:
        event = tx_events.TransactionUpdated(
            transaction_id=str(payload["transactionId"]),
            evse_id=connector,
            connector_id=connector,
            trigger_reason="MeterValuePeriodic",
            charging_state="Charging",
        )
        add_samples_16(event.samples, readings, context.received_at)
        set_timestamp(event.timestamp, when)
        return Outcome({}, [transaction_event("updated", event, when)])
    values = station_events.MeterValuesReceived(evse_id=connector, connector_id=connector)
    add_samples_16(values.samples, readings, context.received_at)
    return Outcome({}, [station_event("meter_values", values, when)])


async def stop_transaction(context: CallContext, payload: dict[str, Any]) -> Outcome:
    ended_at = parse_time(payload["timestamp"], context.received_at)
    event = tx_events.TransactionEnded(
        transaction_id=str(payload["transactionId"]),
        meter_stop_wh=float(payload["meterStop"]),
        stop_reason=payload.get("reason", "Local"),
        trigger_reason="StopAuthorized" if "idTag" in payload else "EVCommunicationLost",
    )
    add_samples_16(event.samples, payload.get("transactionData", []), ended_at)
    set_timestamp(event.ended_at, ended_at)
    response: dict[str, Any] = {}
    if "idTag" in payload:
        event.id_token.CopyFrom(id_token(payload["idTag"], ID_TAG))
        decision = await context.decisions.authorize(
            AuthRequest(
                context.station_id,
                payload["idTag"],
                ID_TAG,
                purpose="transaction",
                transaction_id=str(payload["transactionId"]),
            )
        )
        response["idTagInfo"] = {"status": status_16(decision.status)}
    return Outcome(response, [transaction_event("ended", event, ended_at)])
