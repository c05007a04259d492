"""The whole service on the embedded broker: session events in, one CDR and one cdr.created
out, also when the same events come again after a restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaConsumer
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as pb_grpc
from chargegrid.billing.app import BillingApp
from chargegrid.billing.settings import BillingSettings
from chargegrid.platform.bus import EventProducer, ProducerConfig, decode, unpack
from chargegrid.platform.bus.topics import (
    BILLING_EVENTS,
    SESSION_EVENTS,
    default_topic_specs,
    ensure_topics,
)
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from tests.integration.billing.builders import START, FixedLookups, a_session, closed, opened

pytestmark = pytest.mark.broker
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    await ensure_topics(kafka_bootstrap, default_topic_specs())
    started = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=5))
    await started.start()
    yield started
    await started.stop()


async def eventually(check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await check()
        except (AssertionError, grpc.aio.AioRpcError):
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.1)


async def cdr_events(bootstrap: str, session_id: str, settle_s: float = 2.0) -> int:
    """How many cdr.created events for `session_id` are on billing.events.v1."""
    consumer = AIOKafkaConsumer(
        BILLING_EVENTS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"count-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    found = 0
    try:
        deadline = asyncio.get_running_loop().time() + settle_s
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    envelope = decode(record.value)
                    if unpack(envelope, pb.CdrCreated).cdr.session_id == session_id:
                        found += 1
    finally:
        await consumer.stop()
    return found


def settings_for(database_url: str, bootstrap: str, tmp_path: Path, group: str) -> BillingSettings:
    return BillingSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        api_tokens_file=tmp_path / "api-tokens.json",
        consumer_group=group,
        outbox_poll_interval_s=0.2,
    )


async def test_one_cdr_and_one_event_per_session_even_after_a_restart_and_redelivery(
    database_url: str, kafka_bootstrap: str, producer: EventProducer, tmp_path: Path
) -> None:
    viewer = TokenRegistry(tmp_path / "api-tokens.json").add("viewer", Role.VIEWER)
    group = f"billing-{uuid.uuid4().hex[:8]}"
    settings = settings_for(database_url, kafka_bootstrap, tmp_path, group)
    station = f"CP-{uuid.uuid4().hex[:8]}"
    session = a_session(station, "1", ended_at=START + timedelta(hours=1), energy_wh=11500)
    envelopes = [opened(a_session(station, "1")), closed(session)]

    async def run_once(then_publish: list[Any]) -> str:
        app = BillingApp(settings, lookups=FixedLookups(), consumer_tuning=FAST_GROUP)
        await app.start()
        channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=viewer, max_attempts=1)
        try:
            health: Any = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(health_pb2.HealthCheckRequest())
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            for envelope in then_publish:
                await producer.publish(SESSION_EVENTS, envelope)
            stub = pb_grpc.BillingStub(channel)
            cdr = await eventually(lambda: stub.GetCdr(pb.GetCdrRequest(session_id=session.id)))
            # A sentinel behind the re-delivered events on the same partition: once it is
            # stored, everything before it was handled.
            sentinel = a_session(station, "sentinel")
            await producer.publish(SESSION_EVENTS, opened(sentinel))

            async def sentinel_seen() -> None:
                await stub.EstimateCost(pb.EstimateCostRequest(session_id=sentinel.id))

            await eventually(sentinel_seen)
            return str(cdr.id)
        finally:
            await channel.close()
            await app.stop()

    first = await run_once(envelopes)
    # Same event ids again (a re-delivery), and a second close with a new id.
    second = await run_once([*envelopes, closed(session)])
    assert first == second
    assert await cdr_events(kafka_bootstrap, session.id) == 1
