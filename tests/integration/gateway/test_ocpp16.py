"""OCPP 1.6J through the real gateway and broker: replies and the events that reach Kafka."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from chargegrid.api.ocpp.v1 import frames_pb2
from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.platform.bus import unpack
from chargegrid.platform.bus.topics import OCPP_FRAMES, STATION_EVENTS, TRANSACTION_EVENTS
from tests.integration.gateway.conftest import RunningGateway


@asynccontextmanager
async def station(gateway: RunningGateway, station_id: str) -> AsyncIterator[ClientConnection]:
    async with connect(gateway.url(station_id), subprotocols=["ocpp1.6"]) as ws:
        yield ws


async def call(ws: ClientConnection, action: str, payload: dict, uid: str = "1") -> list:
    await ws.send(orjson.dumps([2, uid, action, payload]).decode())
    return orjson.loads(await asyncio.wait_for(ws.recv(), 10))


async def test_boot_heartbeat_and_status_are_answered_and_stored(gateway: RunningGateway) -> None:
    async with station(gateway, "CP16-A") as ws:
        boot = await call(
            ws, "BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "X1"}
        )
        assert boot[0] == 3
        assert boot[2]["status"] == "Accepted"
        beat = await call(ws, "Heartbeat", {}, "2")
        assert "currentTime" in beat[2]
        status = await call(
            ws,
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            "3",
        )
        assert status == [3, "3", {}]
    await gateway.wait_for(lambda: "station.disconnected" in gateway.types("CP16-A"))
    types = gateway.types("CP16-A", STATION_EVENTS)
    assert types == [
        "station.connected",
        "station.booted",
        "station.heartbeat",
        "station.status_changed",
        "station.disconnected",
    ]
    booted = unpack(gateway.of("CP16-A", STATION_EVENTS)[1], station_events.StationBooted)
    assert (booted.vendor, booted.model, booted.registration_status) == ("ACME", "X1", "Accepted")
    exchanges = [unpack(e, frames_pb2.OcppFrame) for e in gateway.of("CP16-A", OCPP_FRAMES)]
    assert [(x.action, x.message_type_id, x.reply_message_type_id) for x in exchanges] == [
        ("BootNotification", 2, 3),
        ("Heartbeat", 2, 3),
        ("StatusNotification", 2, 3),
    ]
    assert orjson.loads(exchanges[1].reply_raw)[2]["currentTime"] == beat[2]["currentTime"]


async def test_a_transaction_becomes_started_updated_and_ended_events(
    gateway: RunningGateway,
) -> None:
    async with station(gateway, "CP16-T") as ws:
        start = await call(
            ws,
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG1",
                "meterStart": 1000,
                "timestamp": "2026-11-25T10:00:00Z",
            },
        )
        tx_id = start[2]["transactionId"]
        assert start[2]["idTagInfo"]["status"] == "Accepted"
        await call(
            ws,
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx_id,
                "meterValue": [
                    {
                        "timestamp": "2026-11-25T10:05:00Z",
                        "sampledValue": [
                            {
                                "value": "1.5",
                                "unit": "kWh",
                                "measurand": "Energy.Active.Import.Register",
                            },
                            {"value": "7.2", "unit": "kW", "measurand": "Power.Active.Import"},
                        ],
                    }
                ],
            },
            "2",
        )
        stop = await call(
            ws,
            "StopTransaction",
            {
                "transactionId": tx_id,
                "meterStop": 2500,
                "timestamp": "2026-11-25T10:10:00Z",
                "idTag": "TAG1",
            },
            "3",
        )
        assert stop[2]["idTagInfo"]["status"] == "Accepted"
    await gateway.wait_for(lambda: len(gateway.of("CP16-T", TRANSACTION_EVENTS)) == 3)
    started, updated, ended = gateway.of("CP16-T", TRANSACTION_EVENTS)
    assert unpack(started, tx_events.TransactionStarted).meter_start_wh == 1000
    samples = unpack(updated, tx_events.TransactionUpdated).samples
    assert [(s.measurand, s.unit, s.value) for s in samples] == [
        ("Energy.Active.Import.Register", "Wh", 1500.0),
        ("Power.Active.Import", "W", 7200.0),
    ]
    end = unpack(ended, tx_events.TransactionEnded)
    assert (end.transaction_id, end.meter_stop_wh) == (str(tx_id), 2500.0)


async def test_bad_frames_get_the_right_callerror_and_the_connection_survives(
    gateway: RunningGateway,
) -> None:
    cases = [
        ("not json", [4, "-1", "FormationViolation"]),
        ('{"a": 1}', [4, "-1", "ProtocolError"]),
        ('[9, "u1", "Heartbeat", {}]', [4, "u1", "ProtocolError"]),
        ('[2, "u2", "FlyToTheMoon", {}]', [4, "u2", "NotImplemented"]),
        ('[2, "u3", "RemoteStartTransaction", {"idTag": "x"}]', [4, "u3", "NotSupported"]),
        (
            '[2, "u4", "StatusNotification", {"connectorId": 1, "status": "Available"}]',
            [4, "u4", "OccurenceConstraintViolation"],
        ),
        (
            '[2, "u5", "StatusNotification", {"connectorId": "one", "errorCode": "NoError", '
            '"status": "Available"}]',
            [4, "u5", "TypeConstraintViolation"],
        ),
        (
            '[2, "u6", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
            '"status": "Dancing"}]',
            [4, "u6", "PropertyConstraintViolation"],
        ),
        ('[2, "u7", "Heartbeat", {"extra": true}]', [4, "u7", "FormationViolation"]),
        ('[2, "u8", "Heartbeat", {}, "surplus"]', [4, "u8", "ProtocolError"]),
    ]
    async with station(gateway, "CP16-BAD") as ws:
        for frame, expected in cases[:4]:
            await ws.send(frame)
            assert orjson.loads(await ws.recv())[:3] == expected, frame
        ok = await call(ws, "Heartbeat", {}, "ok-1")
        assert ok[0] == 3, "the connection must keep working between bad frames"
    async with station(gateway, "CP16-BAD2") as ws:
        for frame, expected in cases[4:8]:
            await ws.send(frame)
            assert orjson.loads(await ws.recv())[:3] == expected, frame
    async with station(gateway, "CP16-BAD3") as ws:
        for frame, expected in cases[8:]:
            await ws.send(frame)
            assert orjson.loads(await ws.recv())[:3] == expected, frame


async def test_an_oversized_frame_is_refused_with_a_callerror(gateway: RunningGateway) -> None:
    big = {"vendorId": "ACME", "data": "x" * 70_000}
    async with station(gateway, "CP16-BIG") as ws:
        reply = await call(ws, "DataTransfer", big, "big-1")
        assert reply[:3] == [4, "big-1", "FormationViolation"]
        assert "exceeds" in reply[3]


async def test_a_station_repeating_garbage_is_disconnected_and_recorded(
    gateway: RunningGateway,
) -> None:
    async with station(gateway, "CP16-SPAM") as ws:
        for _ in range(5):
            await ws.send("garbage")
            await ws.recv()
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1008
    await gateway.wait_for(
        lambda: any(
            unpack(e, station_events.ProtocolViolation).disconnected
            for e in gateway.of("CP16-SPAM", STATION_EVENTS)
            if e.type == "station.protocol_violation"
        )
    )


async def test_a_second_connection_replaces_the_first(gateway: RunningGateway) -> None:
    async with station(gateway, "CP16-TWICE") as first:
        await call(first, "Heartbeat", {})
        async with station(gateway, "CP16-TWICE") as second:
            await call(second, "Heartbeat", {})
            await asyncio.wait_for(first.wait_closed(), 5)
            assert first.close_code == 4000
            assert gateway.registry.get("CP16-TWICE") is not None


async def test_a_handshake_without_an_ocpp_subprotocol_is_closed(gateway: RunningGateway) -> None:
    async with connect(gateway.url("CP-NOPROTO"), subprotocols=["mqtt"]) as ws:
        assert ws.subprotocol is None
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1002


async def test_a_wrong_path_is_refused_at_the_handshake(gateway: RunningGateway) -> None:
    url = gateway.url("x").replace("/ocpp/x", "/elsewhere/CP1")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url, subprotocols=["ocpp1.6"]):
            pass
    assert refused.value.response.status_code == 404


async def test_percent_encoded_station_ids_are_decoded(gateway: RunningGateway) -> None:
    async with connect(gateway.url("CP%2D01%40depot"), subprotocols=["ocpp1.6"]) as ws:
        await call(ws, "Heartbeat", {})
        assert gateway.registry.get("CP-01@depot") is not None


async def test_a_silent_station_is_disconnected_after_the_idle_timeout(
    gateway: RunningGateway,
) -> None:
    gateway.server.settings.idle_timeout_s = 0.5
    sweeper = asyncio.create_task(gateway.registry.sweep_idle(0.5, every_s=0.1))
    try:
        async with station(gateway, "CP16-IDLE") as ws:
            await call(ws, "Heartbeat", {})
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 4001
    finally:
        sweeper.cancel()


async def test_a_reply_to_an_unknown_message_id_is_recorded_not_answered(
    gateway: RunningGateway,
) -> None:
    async with station(gateway, "CP16-STRAY") as ws:
        await ws.send('[3, "never-sent", {}]')
        await ws.send('[4, "never-sent-either", "GenericError", "", {}]')
        ok = await call(ws, "Heartbeat", {}, "after")
        assert ok[:2] == [3, "after"], "stray replies get no answer; the next CALL is served"
    await gateway.wait_for(
        lambda: sum(e.type == "station.protocol_violation" for e in gateway.of("CP16-STRAY")) == 2
    )
    details = [
        unpack(e, station_events.ProtocolViolation).detail
        for e in gateway.of("CP16-STRAY")
        if e.type == "station.protocol_violation"
    ]
    assert all("unknown message id" in d for d in details)
