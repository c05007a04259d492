"""A durable broker killed and restarted under a running gateway, faster than the gateway's
publish retry budget: the station is answered every time, and nothing stored before the kill
is gone afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import REGISTRY
from websockets.asyncio.client import connect

from chargegrid.gateway.app import build_routes
from chargegrid.gateway.decisions import AuthorizationCache, FallbackDecisions
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig, decode
from chargegrid.platform.bus.topics import OCPP_FRAMES, default_topic_specs, ensure_topics
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.object_store import LocalObjectStore, free_base_port

STATION = "CP-RESTART"


def failed_publishes() -> float:
    labels = {"topic": OCPP_FRAMES}
    return REGISTRY.get_sample_value("chargegrid_bus_publish_failed_total", labels) or 0.0


async def frames_of(bootstrap: str, station: str) -> list[str]:
    """Unique ids of every stored exchange of `station`, read from the start of the log."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(OCPP_FRAMES, p) for p in range(1)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ids: list[str] = []
        while batch := await consumer.getmany(timeout_ms=2000):
            for records in batch.values():
                envelopes = (decode(r.value) for r in records)
                ids += [e.correlation_id for e in envelopes if e.station_id == station]
        return ids
    finally:
        await consumer.stop()


async def test_a_broker_restart_shorter_than_the_budget_is_never_seen_by_a_station(
    tmp_path: Path,
) -> None:
    store = LocalObjectStore(tmp_path / "store", base_port=free_base_port())
    broker = EmbeddedBroker(port=free_port(), object_store=store, log_path=tmp_path / "b.log")
    await broker.start(timeout_s=60)
    await ensure_topics(broker.bootstrap_servers, default_topic_specs(partitions=1))
    producer = EventProducer(ProducerConfig(broker.bootstrap_servers, publish_timeout_s=1))
    await producer.start()
    settings = GatewaySettings(
        ocpp_host="127.0.0.1", ocpp_port=0, boot_fallback="accepted", require_basic_auth=False
    )
    decisions = FallbackDecisions("accepted", 60, 300, "accepted", AuthorizationCache(60))
    publisher = GatewayPublisher(producer, EnvelopeFactory("gateway/test"), retry_budget_s=8.0)
    server = GatewayServer(settings, build_routes(), publisher, decisions, ConnectionRegistry())
    await server.start()
    replies: list[list[object]] = []
    try:
        url = f"ws://127.0.0.1:{server.port}/ocpp/{STATION}"
        async with connect(url, subprotocols=["ocpp1.6"]) as ws:

            async def heartbeat(n: int) -> None:
                await ws.send(f'[2, "hb-{n}", "Heartbeat", {{}}]')
                replies.append(orjson.loads(await asyncio.wait_for(ws.recv(), 30)))

            for n in range(3):
                await heartbeat(n)
            failed_before = failed_publishes()
            await broker.kill()  # SIGKILL: a crash, not a shutdown
            pending = asyncio.create_task(heartbeat(3))  # sent while the broker is down
            # Down longer than one publish attempt (1 s), shorter than the budget (8 s).
            await asyncio.sleep(2.0)
            await broker.start()
            await pending
            for n in range(4, 7):
                await heartbeat(n)
        assert failed_publishes() > failed_before, "the outage should have been retried"
        assert [reply[0] for reply in replies] == [3] * 7, replies  # all CALLRESULTs
        stored = await frames_of(broker.bootstrap_servers, STATION)
        # Every answered frame is in the log once at least (a retried one may be twice).
        assert set(stored) == {f"hb-{n}" for n in range(7)}
        assert stored[:3] == ["hb-0", "hb-1", "hb-2"]  # from before the kill, still there
    finally:
        await server.stop()
        await producer.stop()
        await broker.stop()
