"""Simulated stations charge through the real stack: gateway process, broker, events.

This is what an operator does after `make run`: point stations at the gateway and watch
the normalized transaction events arrive on Kafka, in both OCPP versions.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.platform.bus import decode, unpack
from chargegrid.platform.bus.topics import TRANSACTION_EVENTS
from chargegrid.simulator import EVSpec, StationConfig, StopReason, create_station
from tests.e2e.conftest import Stack


async def _transaction_events(stack: Stack, station_id: str, count: int) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        TRANSACTION_EVENTS,
        bootstrap_servers=stack.bootstrap,
        group_id=f"e2e-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[Envelope] = []
    try:
        async with asyncio.timeout(60):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found += [
                        e
                        for e in map(decode, (r.value for r in records))
                        if e.station_id == station_id
                    ]
    finally:
        await consumer.stop()
    return found


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_simulated_session_reaches_kafka_as_normalized_events(
    stack: Stack, version: str
) -> None:
    await asyncio.to_thread(stack.wait_for_output, "admin API token")
    stack.cli("tokens", "add", "E2ETAG")
    station_id = f"E2E-{version.replace('.', '')}"
    config = StationConfig(station_id=station_id, meter_interval_s=0.2, time_scale=600.0)
    station = create_station(version, config, stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(20)
        session = station.plug_in(
            1, ev=EVSpec(capacity_kwh=60, max_power_w=11_000), id_tag="E2ETAG"
        )
        await asyncio.wait_for(session.transaction_started.wait(), 20)
        await asyncio.sleep(1.5)
        session.request_stop(StopReason.LOCAL)
        await asyncio.wait_for(session.finished.wait(), 20)
        delivered_wh = session.energy_wh
    finally:
        await station.stop()
    found = await _transaction_events(stack, station_id, 4)
    # The Authorize the station sent first is on the topic too (analytics counts refusals).
    assert found[0].type == "transaction.authorized"
    events = [e for e in found if e.type != "transaction.authorized"]
    types = [e.type for e in events]
    assert types[0] == "transaction.started"
    assert "transaction.updated" in types
    assert types[-1] == "transaction.ended"
    ended = unpack(events[-1], tx_events.TransactionEnded)
    started = unpack(events[0], tx_events.TransactionStarted)
    assert ended.transaction_id == started.transaction_id
    if ended.HasField("meter_stop_wh") and started.HasField("meter_start_wh"):
        assert ended.meter_stop_wh - started.meter_start_wh == pytest.approx(delivered_wh, abs=1)
    assert delivered_wh > 0
