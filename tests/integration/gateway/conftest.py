"""An in-process gateway on a free port, wired to the real embedded broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.gateway.app import build_routes
from chargegrid.gateway.decisions import AuthorizationCache, FallbackDecisions
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig, decode
from chargegrid.platform.bus.topics import (
    OCPP_FRAMES,
    STATION_EVENTS,
    TRANSACTION_EVENTS,
    default_topic_specs,
    ensure_topics,
)
from tests.integration.gateway.pki import issue_test_pki


@dataclass
class RunningGateway:
    server: GatewayServer
    registry: ConnectionRegistry
    bootstrap: str
    producer: EventProducer
    events: list[tuple[str, Envelope]] = field(default_factory=list)

    def url(self, station_id: str) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ocpp/{station_id}"

    def of(self, station_id: str, topic: str | None = None) -> list[Envelope]:
        return [e for t, e in self.events if e.station_id == station_id and topic in (None, t)]

    async def wait_for(self, condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("expected events did not arrive")
            await asyncio.sleep(0.05)

    def types(self, station_id: str, topic: str | None = None) -> list[str]:
        return [e.type for e in self.of(station_id, topic)]


async def _collect(bootstrap: str, into: list[tuple[str, Envelope]]) -> None:
    consumer = AIOKafkaConsumer(
        OCPP_FRAMES,
        STATION_EVENTS,
        TRANSACTION_EVENTS,
        bootstrap_servers=bootstrap,
        group_id=f"collector-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                into.extend((r.topic, decode(r.value)) for r in records)
    finally:
        await consumer.stop()


@pytest.fixture
async def gateway(kafka_bootstrap: str) -> AsyncIterator[RunningGateway]:
    await ensure_topics(kafka_bootstrap, default_topic_specs(partitions=2))
    settings = GatewaySettings(
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        pod_name="gw-test",
        boot_fallback="accepted",
        authorize_fallback="accepted",
        garbage_limit=5,
        require_basic_auth=False,  # anonymous stations, as `make run` allows
    )
    producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=3))
    await producer.start()
    registry = ConnectionRegistry()
    decisions = FallbackDecisions("accepted", 60, 300, "accepted", AuthorizationCache(300))
    server = GatewayServer(
        settings,
        build_routes(),
        GatewayPublisher(producer, EnvelopeFactory("gateway/gw-test")),
        decisions,
        registry,
    )
    await server.start()
    running = RunningGateway(server, registry, kafka_bootstrap, producer)
    collector = asyncio.create_task(_collect(kafka_bootstrap, running.events))
    await asyncio.sleep(2.5)  # let the collector join its group before stations talk
    yield running
    collector.cancel()
    await asyncio.gather(collector, return_exceptions=True)
    await server.stop()
    await producer.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return issue_test_pki(tmp_path_factory.mktemp("pki"))
