"""The servers `bench_gateway` measures do the work their figures claim.

The floor (`echo_kafka`) must really store both records with acks=all before it answers, or
its ratio to the echo would bound nothing; the gateway target must store the exchange and the
normalized event; the plain `ocpp` server and the echo must answer a MeterValues CALL.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from websockets.asyncio.client import connect

from bench.bench_gateway import ROOT
from bench.ocpp_load import BOOT, METER_VALUES
from chargegrid.platform.bus.topics import OCPP_FRAMES, TRANSACTION_EVENTS
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port

pytestmark = pytest.mark.broker


@pytest.fixture
async def target(
    request: pytest.FixtureRequest, broker: EmbeddedBroker
) -> AsyncIterator[tuple[str, str]]:
    """Starts `python -m bench.gateway_targets MODE` and yields (mode, url)."""
    mode = request.param
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.gateway_targets",
        mode,
        str(port),
        broker.bootstrap_servers,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            while b"READY" not in (line := await process.stdout.readline()):
                assert line, f"{mode} target exited before READY"
        yield mode, f"ws://127.0.0.1:{port}/ocpp"
    finally:
        process.terminate()
        await process.wait()


async def _meter_values(url: str, station: str) -> list[object]:
    async with connect(f"{url}/{station}", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(orjson.dumps([2, "boot", "BootNotification", BOOT]).decode())
        assert orjson.loads(await ws.recv())[0] == 3
        await ws.send(orjson.dumps([2, "mv-1", "MeterValues", METER_VALUES]).decode())
        reply: list[object] = orjson.loads(await ws.recv())
        return reply


async def _records_keyed(bootstrap: str, topic: str, key: bytes, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[bytes] = []
    try:
        async with asyncio.timeout(20):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                found += [r.value or b"" for rs in batches.values() for r in rs if r.key == key]
    finally:
        await consumer.stop()
    return found


@pytest.mark.parametrize("target", ["echo_kafka", "gateway"], indirect=True)
async def test_the_floor_and_the_gateway_store_both_records_before_answering(
    target: tuple[str, str], broker: EmbeddedBroker
) -> None:
    mode, url = target
    station = f"BENCH-{uuid.uuid4().hex[:8]}"
    reply = await _meter_values(url, station)
    assert reply[:2] == [3, "mv-1"]
    # The answer came after the acknowledgement: both records are readable now.
    frames = await _records_keyed(broker.bootstrap_servers, OCPP_FRAMES, station.encode(), 2)
    events = await _records_keyed(broker.bootstrap_servers, TRANSACTION_EVENTS, station.encode(), 1)
    assert any(b"MeterValues" in frame for frame in frames), mode
    assert len(events) >= 1


@pytest.mark.parametrize("target", ["echo", "ocpp"], indirect=True)
async def test_the_baselines_answer_meter_values(target: tuple[str, str]) -> None:
    _, url = target
    reply = await _meter_values(url, "BENCH-baseline")
    assert reply[:2] == [3, "mv-1"]
