"""The embedded broker's storages side by side (ADR 018): acks=all produce throughput
(pipelined, and one record at a time as a station waits for its answer), how long a killed
broker takes to answer again, what survives the kill, disk used; and how long a SIGKILLed
consumer's replacement takes to consume again with `make run`'s group timeouts."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from chargegrid.platform.bus.topics import TopicSpec, ensure_topics
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port, wait_for_metadata
from chargegrid.platform.object_store import LocalObjectStore, free_base_port

TOPIC = "bench.storage"
PARTITIONS = 8
PIPELINED = 3000
ONE_AT_A_TIME = 200
VALUE = b"x" * 300

CONSUMER = """
import asyncio, sys
from aiokafka import AIOKafkaConsumer
async def main():
    c = AIOKafkaConsumer(sys.argv[2], bootstrap_servers=sys.argv[1], group_id=sys.argv[3],
        enable_auto_commit=False, auto_offset_reset="latest",
        session_timeout_ms=int(sys.argv[4]), heartbeat_interval_ms=int(sys.argv[5]))
    await c.start()
    while True:
        batch = await c.getmany(timeout_ms=100)
        if batch:
            print("consumed", flush=True)
            await c.commit()
asyncio.run(main())
"""


async def _records(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        total = 0
        while batch := await consumer.getmany(timeout_ms=2000, max_records=10_000):
            total += sum(len(records) for records in batch.values())
        return total
    finally:
        await consumer.stop()


async def _produce(bootstrap: str) -> dict[str, float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    try:
        started = time.perf_counter()
        sent = [
            await producer.send(TOPIC, VALUE, key=str(i % 50).encode()) for i in range(PIPELINED)
        ]
        for future in sent:
            await future
        pipelined = PIPELINED / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(ONE_AT_A_TIME):
            await (await producer.send(TOPIC, VALUE, key=b"station"))
        each_ms = (time.perf_counter() - started) / ONE_AT_A_TIME * 1000
    finally:
        await producer.stop()
    return {"pipelined_msg_per_s": round(pipelined), "one_at_a_time_ms": round(each_ms, 2)}


async def _storage(name: str, work: Path) -> dict[str, Any]:
    store = None
    if name == "durable":
        store = LocalObjectStore(work / "store", base_port=free_base_port())
    broker = EmbeddedBroker(port=free_port(), object_store=store)
    started = time.perf_counter()
    await broker.start(timeout_s=90)
    cold_start_s = time.perf_counter() - started
    try:
        await ensure_topics(broker.bootstrap_servers, [TopicSpec(TOPIC, PARTITIONS)])
        result: dict[str, Any] = await _produce(broker.bootstrap_servers)
        before = await _records(broker.bootstrap_servers)
        await broker.kill()
        started = time.perf_counter()
        await broker.start(timeout_s=90)
        await wait_for_metadata(broker.bootstrap_servers, 30)
        result["restart_after_sigkill_s"] = round(time.perf_counter() - started, 2)
        after = await _records(broker.bootstrap_servers)
        result["records_before_kill"] = before
        result["records_after_kill"] = after
        result["cold_start_s"] = round(cold_start_s, 2)
        if store is not None:
            used = sum(f.stat().st_size for f in store.data_dir.rglob("*") if f.is_file())
            result["disk_mb"] = round(used / 1e6, 1)
        return result
    finally:
        await broker.stop()


async def _rejoin(session_ms: int, heartbeat_ms: int) -> float:
    """Seconds from a consumer's SIGKILL until its replacement consumes a new record."""
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    bootstrap, group = broker.bootstrap_servers, f"rejoin-{session_ms}"
    args = [sys.executable, "-c", CONSUMER, bootstrap, TOPIC, group]
    args += [str(session_ms), str(heartbeat_ms)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    try:
        await ensure_topics(bootstrap, [TopicSpec(TOPIC, 4)])
        await producer.start()

        async def consumed(process: asyncio.subprocess.Process) -> None:
            assert process.stdout is not None
            reading = asyncio.create_task(process.stdout.readline())
            while not reading.done():
                await producer.send_and_wait(TOPIC, VALUE)
                await asyncio.wait({reading}, timeout=0.1)

        spawn = asyncio.create_subprocess_exec
        first = await spawn(*args, stdout=asyncio.subprocess.PIPE)
        await asyncio.wait_for(consumed(first), 120)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        started = time.perf_counter()
        second = await spawn(*args, stdout=asyncio.subprocess.PIPE)
        try:
            await asyncio.wait_for(consumed(second), 120)
            return round(time.perf_counter() - started, 2)
        finally:
            second.send_signal(signal.SIGKILL)
            await second.wait()
    finally:
        await producer.stop()
        await broker.stop()


async def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        storages = {name: await _storage(name, Path(tmp)) for name in ("memory", "durable")}
    return {
        "storages": storages,
        "consumer_rejoin_after_sigkill_s": {
            "session_10000_heartbeat_3000 (default)": await _rejoin(10_000, 3_000),
            "session_3000_heartbeat_500 (make run)": await _rejoin(3_000, 500),
        },
        "load_average": os.getloadavg()[0],
    }
