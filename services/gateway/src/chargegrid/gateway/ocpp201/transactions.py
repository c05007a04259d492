"""2.x TransactionEvent (Started / Updated / Ended) and MeterValues, normalized."""

from __future__ import annotations

from typing import Any

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.gateway.decisions import AuthRequest
from chargegrid.gateway.events import (
    id_token,
    reservation_used,
    station_event,
    transaction_event,
)
from chargegrid.gateway.normalize import add_samples_2x, energy_register_wh, parse_time
from chargegrid.gateway.ocpp201.core import id_token_info
from chargegrid.gateway.ocpp201.seq_gaps import seq_gap
from chargegrid.gateway.routing import CallContext, Emit, Outcome
from chargegrid.platform.bus.envelope import set_timestamp


async def transaction_event_2x(context: CallContext, payload: dict[str, Any]) -> Outcome:
    when = parse_time(payload["timestamp"], context.received_at)
    info = payload["transactionInfo"]
    evse = payload.get("evse") or {}
    readings = payload.get("meterValue", [])
    token = payload.get("idToken")
    response: dict[str, Any] = {}
    status = group_id = source = ""
    if token is not None:
        decision = await context.decisions.authorize(
            AuthRequest(
                context.station_id,
                token["idToken"],
                token["type"],
                purpose="start" if payload["eventType"] == "Started" else "transaction",
                transaction_id=info["transactionId"],
                evse_id=int(evse.get("id", 0)),
            )
        )
        status, group_id, source = decision.status, decision.group_id or "", decision.source
        response["idTokenInfo"] = id_token_info(decision)
    common = {
        "transaction_id": info["transactionId"],
        "evse_id": int(evse.get("id", 0)),
        "connector_id": int(evse.get("connectorId", 0)),
        "seq_no": int(payload["seqNo"]),
        "offline": bool(payload.get("offline", False)),
        "trigger_reason": payload["triggerReason"],
    }
    kind = payload["eventType"]
    event: Emit
    if kind == "Started":
        started = tx_events.TransactionStarted(
            authorization_status=status, group_id=group_id, token_source=source, **common
        )
        add_samples_2x(started.samples, readings, when)
        set_timestamp(started.started_at, when)
        if token is not None:
            started.id_token.CopyFrom(id_token(token["idToken"], token["type"]))
        if (reading := energy_register_wh(started.samples)) is not None:
            started.meter_start_wh = reading
        if "reservationId" in payload:
            started.reservation_id = int(payload["reservationId"])
        event = transaction_event("started", started, when)
    elif kind == "Ended":
        ended = tx_events.TransactionEnded(stop_reason=info.get("stoppedReason", "Local"), **common)
        add_samples_2x(ended.samples, readings, when)
        set_timestamp(ended.ended_at, when)
        if token is not None:
            ended.id_token.CopyFrom(id_token(token["idToken"], token["type"]))
        if (reading := energy_register_wh(ended.samples)) is not None:
            ended.meter_stop_wh = reading
        event = transaction_event("ended", ended, when)
    else:
        updated = tx_events.TransactionUpdated(
            charging_state=info.get("chargingState", ""), **common
        )
        add_samples_2x(updated.samples, readings, when)
        set_timestamp(updated.timestamp, when)
        if token is not None:
            updated.id_token.CopyFrom(id_token(token["idToken"], token["type"]))
            updated.authorization_status = status
            updated.group_id = group_id
            updated.token_source = source
        event = transaction_event("updated", updated, when)
    if kind != "Started":
        # The running cost the station may show the driver (billing's estimate; omitted
        # when billing is not deployed or cannot answer in time).
        cost = await context.decisions.total_cost(context.station_id, info["transactionId"])
        if cost is not None:
            response["totalCost"] = float(cost)
    events = [event]
    if "reservationId" in payload:
        # H03: the station used the reservation for this transaction.
        events.append(
            reservation_used(
                int(payload["reservationId"]), info["transactionId"], common["evse_id"], when
            )
        )
    gap = seq_gap(context.station, info["transactionId"], common["seq_no"], kind, common["evse_id"])
    return Outcome(response, events if gap is None else [*events, gap])


async def meter_values(context: CallContext, payload: dict[str, Any]) -> Outcome:
    values = station_events.MeterValuesReceived(evse_id=int(payload["evseId"]))
    add_samples_2x(values.samples, payload["meterValue"], context.received_at)
    return Outcome({}, [station_event("meter_values", values)])
