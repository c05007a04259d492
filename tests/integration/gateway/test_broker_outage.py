"""With the broker gone the gateway acknowledges nothing: stations get InternalError."""

from __future__ import annotations

import asyncio
import time

import orjson
from websockets.asyncio.client import connect

from chargegrid.gateway.app import build_routes
from chargegrid.gateway.decisions import AuthorizationCache, FallbackDecisions
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port


async def test_stopping_the_broker_mid_run_turns_answers_into_internal_errors() -> None:
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    await ensure_topics(broker.bootstrap_servers, default_topic_specs(partitions=1))
    producer = EventProducer(ProducerConfig(broker.bootstrap_servers, publish_timeout_s=2))
    await producer.start()
    settings = GatewaySettings(
        ocpp_host="127.0.0.1", ocpp_port=0, boot_fallback="accepted", require_basic_auth=False
    )
    decisions = FallbackDecisions("accepted", 60, 300, "accepted", AuthorizationCache(60))
    # An outage longer than the retry budget: the station must be told.
    publisher = GatewayPublisher(producer, EnvelopeFactory("gateway/test"), retry_budget_s=1.0)
    server = GatewayServer(settings, build_routes(), publisher, decisions, ConnectionRegistry())
    await server.start()
    url = f"ws://127.0.0.1:{server.port}/ocpp/CP-OUTAGE"
    try:
        async with connect(url, subprotocols=["ocpp1.6"]) as ws:
            await ws.send('[2, "1", "Heartbeat", {}]')
            assert orjson.loads(await ws.recv())[0] == 3

            await broker.stop()
            started = time.monotonic()
            await ws.send('[2, "2", "Heartbeat", {}]')
            reply = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            assert reply[:3] == [4, "2", "InternalError"]
            assert time.monotonic() - started < 6

            await broker.start()  # memory storage: topics come back empty, auto-created
            deadline = time.monotonic() + 30
            while True:
                await ws.send('[2, "3", "Heartbeat", {}]')
                reply = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                if reply[0] == 3 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert reply[0] == 3, "the gateway should recover once the broker is back"
    finally:
        await server.stop()
        await producer.stop()
        await broker.stop()
