"""OCPP 2.0.1 and 2.1 through the real gateway and broker: every station-initiated action."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.platform.bus import unpack
from chargegrid.platform.bus.topics import STATION_EVENTS, TRANSACTION_EVENTS
from tests.integration.gateway.conftest import RunningGateway
from tests.integration.gateway.ocpp2x_payloads import EXPECTED_EVENTS, PAYLOADS, TOKEN, T, energy

VERSIONS = ["2.0.1", "2.1"]


@asynccontextmanager
async def station(
    gateway: RunningGateway, station_id: str, version: str
) -> AsyncIterator[ClientConnection]:
    async with connect(gateway.url(station_id), subprotocols=[Subprotocol(f"ocpp{version}")]) as ws:
        assert ws.subprotocol == f"ocpp{version}"
        yield ws


async def call(ws: ClientConnection, action: str, payload: dict[str, Any], uid: str) -> list[Any]:
    await ws.send(orjson.dumps([2, uid, action, payload]).decode())
    reply: list[Any] = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    return reply


@pytest.mark.parametrize("version", VERSIONS)
async def test_every_station_initiated_action_is_answered_and_stored(
    gateway: RunningGateway, version: str
) -> None:
    station_id = f"CP2X-ALL-{version}"
    replies: dict[str, Any] = {}
    async with station(gateway, station_id, version) as ws:
        for n, (action, payload) in enumerate(PAYLOADS.items()):
            reply = await call(ws, action, payload, f"m{n}")
            assert reply[0] == 3, f"{action} answered {reply}"
            replies[action] = reply[2]
    # Energy reads charging needs, so the station is told a schedule will follow.
    assert replies["NotifyEVChargingNeeds"] == {"status": "Accepted"}
    answered = {"BootNotification": "Accepted"}
    await gateway.wait_for(lambda: set(EXPECTED_EVENTS.values()) <= set(gateway.types(station_id)))
    await gateway.wait_for(lambda: len(gateway.of(station_id, STATION_EVENTS)) >= len(PAYLOADS))
    notes = [
        unpack(e, station_events.NotificationReceived).action
        for e in gateway.of(station_id)
        if e.type == "station.notification"
    ]
    assert {"SignCertificate", "NotifyEvent", "NotifyEVChargingNeeds", "DataTransfer"} <= set(notes)
    # The Authorize's answer, typed, for analytics (refusals are failed starts).
    await gateway.wait_for(lambda: "transaction.authorized" in gateway.types(station_id))
    authorized = next(e for e in gateway.of(station_id) if e.type == "transaction.authorized")
    decided = unpack(authorized, tx_events.TokenAuthorized)
    assert (decided.id_token.id, decided.authorization_status) == (TOKEN["idToken"], "Accepted")
    booted = next(e for e in gateway.of(station_id) if e.type == "station.booted")
    assert (
        unpack(booted, station_events.StationBooted).registration_status
        == answered["BootNotification"]
    )


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_2x_transaction_is_normalized_like_a_1_6_one(
    gateway: RunningGateway, version: str
) -> None:
    station_id = f"CP2X-TX-{version}"
    base = {"transactionInfo": {"transactionId": "tx-42"}, "evse": {"id": 1, "connectorId": 1}}
    async with station(gateway, station_id, version) as ws:
        started = await call(
            ws,
            "TransactionEvent",
            {
                **base,
                "eventType": "Started",
                "timestamp": T,
                "triggerReason": "Authorized",
                "seqNo": 0,
                "idToken": TOKEN,
                "meterValue": [energy(10.0)],
            },
            "t0",
        )
        assert started[2]["idTokenInfo"]["status"] == "Accepted"
        await call(
            ws,
            "TransactionEvent",
            {
                **base,
                "eventType": "Updated",
                "timestamp": T,
                "triggerReason": "MeterValuePeriodic",
                "seqNo": 1,
                "meterValue": [energy(12.5)],
            },
            "t1",
        )
        ended = {
            **base,
            "eventType": "Ended",
            "timestamp": T,
            "triggerReason": "EVDeparted",
            "seqNo": 2,
            "meterValue": [energy(15.0)],
        }
        ended["transactionInfo"] = {"transactionId": "tx-42", "stoppedReason": "EVDisconnected"}
        await call(ws, "TransactionEvent", ended, "t2")
    await gateway.wait_for(lambda: len(gateway.of(station_id, TRANSACTION_EVENTS)) == 3)
    first, middle, last = gateway.of(station_id, TRANSACTION_EVENTS)
    begin = unpack(first, tx_events.TransactionStarted)
    assert (begin.transaction_id, begin.meter_start_wh, begin.id_token.type) == (
        "tx-42",
        10000.0,
        "ISO14443",
    )
    update = unpack(middle, tx_events.TransactionUpdated)
    assert [(s.measurand, s.unit, s.value) for s in update.samples] == [
        ("Energy.Active.Import.Register", "Wh", 12500.0),
        ("Power.Active.Import", "W", 7200.0),
    ]
    end = unpack(last, tx_events.TransactionEnded)
    assert (end.meter_stop_wh, end.stop_reason, end.seq_no) == (15000.0, "EVDisconnected", 2)


@pytest.mark.parametrize("version", VERSIONS)
async def test_bad_2x_frames_get_the_2x_error_codes(gateway: RunningGateway, version: str) -> None:
    cases = [
        ("{not json", [4, "-1", "FormatViolation"]),
        ('[7, "u1", "Heartbeat", {}]', [4, "u1", "MessageTypeNotSupported"]),
        ('[2, "u2", "FlyToTheMoon", {}]', [4, "u2", "NotImplemented"]),
        ('[2, "u3", "RequestStartTransaction", {}]', [4, "u3", "NotSupported"]),
        (
            '[2, "u4", "StatusNotification", {"timestamp": "2026-11-25T10:00:00Z", "evseId": 1, '
            '"connectorId": 1}]',
            [4, "u4", "OccurrenceConstraintViolation"],
        ),
        ('[2, "u5", "Heartbeat", {"x": 1}]', [4, "u5", "FormatViolation"]),
        (
            '[2, "u6", "StatusNotification", {"timestamp": "2026-11-25T10:00:00Z", "evseId": "1", '
            '"connectorId": 1, "connectorStatus": "Occupied"}]',
            [4, "u6", "TypeConstraintViolation"],
        ),
        (
            '[2, "u7", "StatusNotification", {"timestamp": "2026-11-25T10:00:00Z", "evseId": 1, '
            '"connectorId": 1, "connectorStatus": "Dancing"}]',
            [4, "u7", "PropertyConstraintViolation"],
        ),
    ]
    for part in (0, 4):  # the fixture disconnects after 5 bad frames: two connections
        async with station(gateway, f"CP2X-BAD-{version}-{part}", version) as ws:
            for frame, expected in cases[part : part + 4]:
                await ws.send(frame)
                assert orjson.loads(await ws.recv())[:3] == expected, frame


async def test_2_1_send_messages_are_stored_and_never_answered(gateway: RunningGateway) -> None:
    station_id = "CP21-SEND"
    stream = {"id": 1, "pending": 0, "basetime": T, "data": [{"t": 0.5, "v": "7200"}]}
    async with station(gateway, station_id, "2.1") as ws:
        await ws.send(orjson.dumps([6, "s1", "NotifyPeriodicEventStream", stream]).decode())
        await ws.send(orjson.dumps([6, "s2", "NotifyPeriodicEventStream", {"id": 1}]).decode())
        after = await call(ws, "Heartbeat", {}, "h1")
        assert after[:2] == [3, "h1"], "a SEND gets no answer: the next reply is the Heartbeat's"
    await gateway.wait_for(
        lambda: (
            {"station.notification", "station.protocol_violation"} <= set(gateway.types(station_id))
        )
    )
    note = next(e for e in gateway.of(station_id) if e.type == "station.notification")
    kept = unpack(note, station_events.NotificationReceived)
    assert kept.action == "NotifyPeriodicEventStream"
    assert orjson.loads(kept.payload_json)["data"][0]["v"] == "7200"
