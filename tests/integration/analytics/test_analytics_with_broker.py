"""The whole analytics service on the embedded broker: the generated month goes through
Kafka, the worker is stopped halfway and started again, malformed events go to the DLQ, and
every figure still equals the plain computation, also after a rebuild from mid-month; the
gRPC API refuses bad queries."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from chargegrid.analytics.api import AnalyticsService
from chargegrid.analytics.app import AnalyticsApp
from chargegrid.analytics.settings import AnalyticsSettings
from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.analytics.v1 import analytics_pb2_grpc as pb_grpc
from chargegrid.api.billing.v1 import billing_pb2 as billing
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import (
    BILLING_EVENTS,
    SESSION_EVENTS,
    TRANSACTION_EVENTS,
    default_topic_specs,
    dlq_topic,
    ensure_topics,
)
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from tests.integration.analytics.conftest import a_query, reference_sites
from tests.integration.analytics.reference import MONTH_END, MONTH_START, Generated, generate
from tests.integration.analytics.test_figures_match_the_reference import (
    assert_every_figure_matches,
)

FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}


@pytest.fixture(scope="module")
async def own_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedBroker]:
    """A broker of this module's own: a month of events (and malformed ones) left on the shared
    broker's topics would be read first by every later test's fresh consumer group."""
    embedded = EmbeddedBroker(
        port=free_port(), log_path=tmp_path_factory.mktemp("broker") / "tansu.log"
    )
    await embedded.start()
    yield embedded
    await embedded.stop()


@pytest.fixture
def kafka_bootstrap(own_broker: EmbeddedBroker) -> str:
    return own_broker.bootstrap_servers


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    await ensure_topics(kafka_bootstrap, default_topic_specs())
    started = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=10))
    await started.start()
    yield started
    await started.stop()


@dataclass
class Reader:
    """What the figures are read through: the service's own servicer on its database."""

    api: AnalyticsService


def settings_for(
    database_url: str, bootstrap: str, tmp_path: Path, group: str
) -> AnalyticsSettings:
    return AnalyticsSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        metrics_port=0,
        api_tokens_file=tmp_path / "api-tokens.json",
        consumer_group=group,
    )


async def publish_all(producer: EventProducer, topic: str, envelopes: list[Envelope]) -> None:
    for i in range(0, len(envelopes), 500):
        await producer.publish_batch([(topic, e) for e in envelopes[i : i + 500]])


async def figures_match(app: AnalyticsApp, month: Generated, timeout_s: float = 90) -> None:
    reader = Reader(AnalyticsService(app.sessions, 370))
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await assert_every_figure_matches(reader, month)
            return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def dead_letters(
    bootstrap: str, station: str, topic: str = TRANSACTION_EVENTS
) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        dlq_topic(topic),
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        found: list[bytes] = []
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                found += [r.value for r in records if r.key == station.encode()]
        return found
    finally:
        await consumer.stop()


async def test_the_month_through_the_broker_with_a_restart_and_malformed_events(
    database_url: str, kafka_bootstrap: str, producer: EventProducer, tmp_path: Path
) -> None:
    month = generate()
    group = f"analytics-{uuid.uuid4().hex[:8]}"
    settings = settings_for(database_url, kafka_bootstrap, tmp_path, group)
    bad_station = f"CP-BAD-{uuid.uuid4().hex[:6]}"
    wrong_payload = EnvelopeFactory("test").wrap(
        "transaction.updated", bad_station, billing.CdrCreated()
    )
    half = len(month.transaction_events) // 2
    await publish_all(producer, TRANSACTION_EVENTS, month.transaction_events[:half])
    await producer.publish_raw(TRANSACTION_EVENTS, bad_station.encode(), b"\x00not an envelope")
    await producer.publish(TRANSACTION_EVENTS, wrong_payload)

    first = AnalyticsApp(settings, sites=reference_sites(), consumer_tuning=FAST_GROUP)
    await first.start()
    await asyncio.sleep(2)  # some of the first half is in, some perhaps not
    await first.stop()

    await publish_all(producer, TRANSACTION_EVENTS, month.transaction_events[half:])
    await publish_all(producer, BILLING_EVENTS, month.billing_events)
    await publish_all(producer, SESSION_EVENTS, month.session_events)
    second = AnalyticsApp(settings, sites=reference_sites(), consumer_tuning=FAST_GROUP)
    await second.start()
    try:
        await figures_match(second, month)
        assert len(await dead_letters(kafka_bootstrap, bad_station)) == 2
        # A rebuild from mid-month takes the second half back out and reads it all again.
        removed, group = await second.rebuild(MONTH_START.replace(day=15))
        assert removed.readings > 1000
        assert removed.cdrs > 100
        assert group == f"{settings.consumer_group}.rebuild-1"
        await figures_match(second, month)
    finally:
        await second.stop()


async def test_the_api_refuses_what_makes_no_sense_with_invalid_argument(
    sqlite_url: str, kafka_bootstrap: str, producer: EventProducer, tmp_path: Path
) -> None:
    settings = settings_for(sqlite_url, kafka_bootstrap, tmp_path, f"a-{uuid.uuid4().hex[:8]}")
    token = TokenRegistry(tmp_path / "api-tokens.json").add("viewer", Role.VIEWER)
    app = AnalyticsApp(settings, sites=reference_sites(), consumer_tuning=FAST_GROUP)
    await app.start()
    channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=token, max_attempts=1)
    try:
        stub: Any = pb_grpc.AnalyticsStub(channel)
        ok = await stub.Energy(a_query(site_id="site-berlin", start=MONTH_START, end=MONTH_END))
        assert ok.total_wh == 0
        bad = {
            "unknown scope kind 9": a_query(9, start=MONTH_START, end=MONTH_END),
            "needs site_id": a_query(start=MONTH_START, end=MONTH_END),
            "before it starts": a_query(site_id="s", start=MONTH_END, end=MONTH_START),
            "more than 370 days": a_query(
                site_id="s", start=MONTH_START.replace(year=2024), end=MONTH_END
            ),
        }
        unknown_grain = a_query(site_id="s", start=MONTH_START, end=MONTH_END)
        unknown_grain.granularity = 42  # type: ignore[assignment]
        bad["unknown granularity 42"] = unknown_grain
        for expected, request in bad.items():
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Energy(request)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert expected in (refused.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Peaks(a_query(site_id="s", start=MONTH_START, end=MONTH_END, grain="hour"))
        assert "per day or per month" in (refused.value.details() or "")
        by_group = a_query(site_id="s", start=MONTH_START, end=MONTH_END)
        by_group.breakdown = pb.BREAKDOWN_TOKEN_GROUP
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.SessionStats(by_group)
        assert "by hour of day or day of week" in (refused.value.details() or "")
        by_hour = a_query(site_id="s", start=MONTH_START, end=MONTH_END)
        by_hour.breakdown = pb.BREAKDOWN_HOUR_OF_DAY
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UserStats(by_hour)
        assert "per token, or per token group" in (refused.value.details() or "")
    finally:
        await channel.close()
        await app.stop()
