"""Billing: cost-engine throughput and consumer-to-CDR latency on the embedded broker.

1. The pure engine prices a 1 h session (60 timeline points, one a minute) across a
   2-element time-of-day tariff (0.20/kWh until 18:00, 0.40/kWh + 1.00/h after) in Berlin
   time: CDRs computed per second on one core.
2. session.closed envelopes are published one at a time through the real broker to a running
   BillingApp (SQLite); latency is from the publish call until GetCdr answers for the
   session. Baseline in the same run: an EventConsumer with a no-op handler on its own topic,
   timed from the publish call until the handler ran; the difference is what billing adds
   (claim, pricing, CDR + outbox write, commit, and the GetCdr poll every 2 ms).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as pb_grpc
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.billing.app import BillingApp
from chargegrid.billing.domain.engine import price
from chargegrid.billing.domain.tariffs import (
    Dimension,
    PriceComponent,
    Restrictions,
    Tariff,
    TariffElement,
)
from chargegrid.billing.domain.timeline import UsagePoint
from chargegrid.billing.settings import BillingSettings
from chargegrid.platform.bus import (
    ConsumerConfig,
    EnvelopeFactory,
    EventConsumer,
    EventProducer,
    ProducerConfig,
    TopicSpec,
    ensure_topics,
)
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.bus.topics import SESSION_EVENTS, default_topic_specs
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel

ENGINE_SECONDS = 3.0
SESSIONS = 200
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 1, 15, 16, 30, tzinfo=UTC)  # 17:30 in Berlin
FAST = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}


def tariff() -> Tariff:
    def at(text: str) -> Any:
        return datetime.strptime(text, "%H:%M").time()

    day = TariffElement(
        (PriceComponent(Dimension.ENERGY, Decimal("0.20")),),
        Restrictions(start_time=at("00:00"), end_time=at("18:00")),
    )
    evening = TariffElement(
        (
            PriceComponent(Dimension.ENERGY, Decimal("0.40"), step_size=1000),
            PriceComponent(Dimension.TIME, Decimal("1.00"), step_size=60),
        ),
        Restrictions(start_time=at("18:00"), end_time=at("00:00")),
    )
    return Tariff("BENCH", "EUR", Decimal(19), (day, evening), 1, START)


def timeline() -> list[UsagePoint]:
    return [UsagePoint(START + timedelta(minutes=m), Decimal(m * 366), m < 60) for m in range(61)]


def bench_engine() -> dict[str, Any]:
    plan, points = tariff(), timeline()
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < ENGINE_SECONDS:
        price(plan, points, BERLIN)
        count += 1
    elapsed = time.perf_counter() - started
    return {
        "cdrs_per_s": round(count / elapsed),
        "timeline_points": len(points),
        "total_incl_vat": str(price(plan, points, BERLIN).total_incl_vat),
    }


class BerlinLookups:
    async def site_and_timezone(self, station_id: str, site_id: str) -> tuple[str, str] | None:
        return "SITE", "Europe/Berlin"

    async def token_group(self, id_token: str) -> str | None:
        return ""


def closed_envelope(factory: EnvelopeFactory, n: int) -> tuple[str, Envelope]:
    station = f"CP-{n % 50}"
    session = spb.Session(id=f"{station}:{uuid.uuid4().hex[:8]}", station_id=station)
    session.energy_wh = 22000
    session.charging_s = 3600
    set_timestamp(session.started_at, START)
    set_timestamp(session.ended_at, START + timedelta(hours=1))
    return session.id, factory.wrap("session.closed", station, spb.SessionClosed(session=session))


def summary(latencies: list[float]) -> dict[str, Any]:
    latencies.sort()
    return {
        "sessions": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


async def bench_billing_consumer(
    bootstrap: str, producer: EventProducer, var: Path
) -> dict[str, Any]:
    token = TokenRegistry(var / "tokens.json").add("bench", Role.VIEWER)
    settings = BillingSettings(
        database_url=f"sqlite:///{var / 'billing.db'}",
        kafka_bootstrap_servers=bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        api_tokens_file=var / "tokens.json",
        consumer_group=f"bench-{uuid.uuid4().hex[:6]}",
    )
    app = BillingApp(settings, lookups=BerlinLookups(), consumer_tuning=FAST)
    await app.start()
    channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=token, max_attempts=1)
    stub = pb_grpc.BillingStub(channel)
    factory = EnvelopeFactory("bench")
    latencies: list[float] = []
    try:
        for n in range(SESSIONS):
            session_id, envelope = closed_envelope(factory, n)
            started = time.perf_counter()
            await producer.publish(SESSION_EVENTS, envelope)
            while True:
                try:
                    await stub.GetCdr(pb.GetCdrRequest(session_id=session_id))
                    break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.002)
            latencies.append(time.perf_counter() - started)
    finally:
        await channel.close()
        await app.stop()
    return summary(latencies)


async def bench_noop_consumer(bootstrap: str, producer: EventProducer) -> dict[str, Any]:
    topic = f"bench.sessions.{uuid.uuid4().hex[:6]}"
    await ensure_topics(bootstrap, [TopicSpec(topic, 8)])
    seen: dict[str, asyncio.Event] = {}

    async def noop(envelope: Envelope, _record: Any) -> None:
        seen.setdefault(envelope.event_id, asyncio.Event()).set()

    config = ConsumerConfig(
        bootstrap,
        f"noop-{uuid.uuid4().hex[:6]}",
        [topic],
        extra={"fetch_max_wait_ms": BillingSettings().consumer_fetch_max_wait_ms},
        **FAST,
    )
    consumer = EventConsumer(config, noop, producer)
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    factory = EnvelopeFactory("bench")
    latencies: list[float] = []
    try:
        # Wait for the group join before timing.
        _, warm = closed_envelope(factory, 0)
        await producer.publish(topic, warm)
        await seen.setdefault(warm.event_id, asyncio.Event()).wait()
        for n in range(SESSIONS):
            _, envelope = closed_envelope(factory, n)
            done = seen.setdefault(envelope.event_id, asyncio.Event())
            started = time.perf_counter()
            await producer.publish(topic, envelope)
            await done.wait()
            latencies.append(time.perf_counter() - started)
    finally:
        await consumer.stop()
        await task
    return summary(latencies)


async def run() -> dict[str, Any]:
    result: dict[str, Any] = {"engine": bench_engine()}
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    try:
        bootstrap = broker.bootstrap_servers
        await ensure_topics(bootstrap, default_topic_specs())
        async with EventProducer(ProducerConfig(bootstrap)) as producer:
            result["baseline_noop_consumer"] = await asyncio.wait_for(
                bench_noop_consumer(bootstrap, producer), 60
            )
            with tempfile.TemporaryDirectory() as var:
                result["consumer_to_cdr"] = await asyncio.wait_for(
                    bench_billing_consumer(bootstrap, producer, Path(var)), 60
                )
    finally:
        await broker.stop()
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(asyncio.run(run()), indent=2))
