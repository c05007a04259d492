"""Event bus publish throughput and latency (acks=all) on the embedded broker.

Compares `EventProducer.publish` (envelope encoding, trace headers, metrics, bounded wait)
with a bare aiokafka producer sending the same bytes, in the same run against the same
broker, so the figure to read is the overhead our layer adds. The CPU time per message is
what a record costs the publishing process at best (the gateway stores two per CALL).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer

from chargegrid.api.transaction.v1.events_pb2 import MeterSample, TransactionUpdated
from chargegrid.platform.bus import (
    EnvelopeFactory,
    EventProducer,
    ProducerConfig,
    TopicSpec,
    encode,
    ensure_topics,
)
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port

MESSAGES = 20_000
IN_FLIGHT = 256


def _payload() -> TransactionUpdated:
    update = TransactionUpdated(transaction_id="tx-1", evse_id=1, connector_id=1, seq_no=3)
    update.samples.append(
        MeterSample(measurand="Energy.Active.Import.Register", unit="Wh", value=12345.0)
    )
    update.samples.append(MeterSample(measurand="Power.Active.Import", unit="W", value=7200.0))
    return update


async def _drive(send: Callable[[int], Awaitable[None]]) -> dict[str, Any]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int) -> None:
        async with gate:
            started = time.perf_counter()
            await send(n)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    cpu_started = time.process_time()
    await asyncio.gather(*(one(n) for n in range(MESSAGES)))
    elapsed = time.perf_counter() - started
    cpu_used = time.process_time() - cpu_started
    latencies.sort()
    return {
        "messages": MESSAGES,
        "in_flight": IN_FLIGHT,
        "msg_per_s": round(MESSAGES / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        # CPU of this process (producer and the driving coroutines; the broker is another).
        "cpu_us_per_msg": round(cpu_used * 1e6 / MESSAGES, 1),
    }


async def run() -> dict[str, Any]:
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    try:
        bootstrap = broker.bootstrap_servers
        await ensure_topics(bootstrap, [TopicSpec("bench.bus", 8), TopicSpec("bench.raw", 8)])
        factory = EnvelopeFactory(source="bench")
        payload = _payload()
        wrap_started = time.perf_counter()
        envelopes = [factory.wrap("t", f"CP-{n % 500}", payload) for n in range(MESSAGES)]
        wrap_rate = MESSAGES / (time.perf_counter() - wrap_started)
        async with EventProducer(ProducerConfig(bootstrap)) as producer:

            async def ours(n: int) -> None:
                await producer.publish("bench.bus", envelopes[n])

            await _drive(ours)  # warm-up: metadata, connections
            measured = await _drive(ours)
        raw = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", compression_type="lz4", linger_ms=2
        )
        await raw.start()
        value = encode(factory.wrap("t", "CP-1", payload))
        try:

            async def bare(n: int) -> None:
                await raw.send_and_wait("bench.raw", value, key=f"CP-{n % 500}".encode())

            await _drive(bare)
            baseline = await _drive(bare)
        finally:
            await raw.stop()
    finally:
        await broker.stop()
    return {
        "event_producer": measured,
        "baseline_bare_aiokafka": baseline,
        "relative_throughput": round(measured["msg_per_s"] / baseline["msg_per_s"], 2),
        "envelope_wrap_per_s": round(wrap_rate),
    }
