"""The whole service on the embedded broker: events in, sessions stored, session events out
exactly once (also when a restarted consumer gets everything again), watchers fed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.session.v1 import session_pb2_grpc as pb_grpc
from chargegrid.platform.bus import EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import (
    SESSION_EVENTS,
    STATION_EVENTS,
    TRANSACTION_EVENTS,
    default_topic_specs,
    ensure_topics,
)
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.session.api.queries import SessionFilter, list_sessions
from chargegrid.session.app import SessionApp
from chargegrid.session.settings import SessionSettings
from tests.integration.session.builders import (
    booted,
    ended,
    register,
    session_events,
    started,
    updated,
)

FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}


async def eventually(check: Callable[[], Any], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout_s}s")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def own_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedBroker]:
    """This module's own broker: a new group here reads its topics from the start, and on the
    run-wide broker that was every other test's events first (90 s were not enough on CI)."""
    embedded = EmbeddedBroker(port=free_port(), log_path=tmp_path_factory.mktemp("b") / "log")
    await embedded.start()
    yield embedded
    await embedded.stop()


@pytest.fixture
def kafka_bootstrap(own_broker: EmbeddedBroker) -> str:
    return own_broker.bootstrap_servers


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    await ensure_topics(kafka_bootstrap, default_topic_specs())
    started_producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=5))
    await started_producer.start()
    yield started_producer
    await started_producer.stop()


class SessionTopic:
    """Everything on session.events.v1 for one station, read from the beginning."""

    def __init__(self, bootstrap: str, station_id: str) -> None:
        self.station_id = station_id
        self.raw: list[bytes] = []
        self._consumer = AIOKafkaConsumer(
            SESSION_EVENTS, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
        )

    async def __aenter__(self) -> SessionTopic:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.raw += [r.value for r in records if r.key == self.station_id.encode()]

    def kinds(self) -> list[str]:
        return [kind for kind, _ in session_events(self.raw)]

    async def __aexit__(self, *_: object) -> None:
        self._task.cancel()
        await self._consumer.stop()


def settings_for(database_url: str, bootstrap: str, tmp_path: Path, group: str) -> SessionSettings:
    return SessionSettings(
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        metrics_port=0,
        api_tokens_file=tmp_path / "api-tokens.json",
        consumer_group=group,
        update_interval_s=3600,
        outbox_poll_interval_s=0.2,
    )


async def publish(producer: EventProducer, topic: str, *envelopes: Envelope) -> None:
    for envelope in envelopes:
        await producer.publish(topic, envelope)


async def test_events_become_a_session_its_events_and_watcher_updates(
    database_url: str, kafka_bootstrap: str, producer: EventProducer, tmp_path: Path
) -> None:
    token = TokenRegistry(tmp_path / "api-tokens.json").add("viewer", Role.VIEWER)
    station = f"CP-{uuid.uuid4().hex[:8]}"
    app = SessionApp(
        settings_for(database_url, kafka_bootstrap, tmp_path, f"session-{uuid.uuid4().hex[:8]}"),
        consumer_tuning=FAST_GROUP,
    )
    await app.start()
    channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=token)
    try:
        health: Any = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = pb_grpc.SessionsStub(channel)
        stream = stub.WatchSessions(pb.WatchSessionsRequest(station_id=station))
        await eventually(lambda: len(app.hub) == 1)
        async with SessionTopic(kafka_bootstrap, station) as topic:
            await publish(
                producer,
                TRANSACTION_EVENTS,
                started(0, station=station),
                updated(10, register(10, 2500), station=station),
                ended(20, 3000, station=station),
            )
            await eventually(lambda: topic.kinds() == ["opened", "closed"])
        seen: list[str] = []
        for _ in range(2):
            change: Any = await stream.read()
            seen.append(change.kind)
        stream.cancel()
        assert seen == ["opened", "closed"]
        found = await stub.GetSession(pb.GetSessionRequest(station_id=station, transaction_id="42"))
        assert (found.status, found.energy_wh) == (pb.SESSION_STATUS_COMPLETED, 2000)
    finally:
        await channel.close()
        await app.stop()


async def test_a_restarted_consumer_that_gets_everything_again_closes_the_session_once(
    database_url: str, kafka_bootstrap: str, producer: EventProducer, tmp_path: Path
) -> None:
    station = f"CP-{uuid.uuid4().hex[:8]}"
    first = SessionApp(
        settings_for(database_url, kafka_bootstrap, tmp_path, f"session-{uuid.uuid4().hex[:8]}"),
        consumer_tuning=FAST_GROUP,
    )
    await first.start()
    async with SessionTopic(kafka_bootstrap, station) as topic:
        await publish(
            producer,
            TRANSACTION_EVENTS,
            started(0, station=station),
            updated(10, register(10, 1800), station=station),
        )
        await eventually(lambda: topic.kinds() == ["opened"])
        await first.stop()  # mid-stream: the session is still active

        await publish(producer, STATION_EVENTS, booted(15, station=station))
        # Topics are not ordered with one another: the boot or the stop may be handled
        # first; either way the session closes once, interrupted, with the same energy.
        await publish(
            producer, TRANSACTION_EVENTS, ended(12, 2100, station=station, reason="PowerLoss")
        )
        # A new group reads the topics from the start: every event is delivered again.
        second = SessionApp(
            settings_for(
                database_url, kafka_bootstrap, tmp_path, f"session-{uuid.uuid4().hex[:8]}"
            ),
            consumer_tuning=FAST_GROUP,
        )
        await second.start()
        try:
            # From the start of topics the whole test run shares: on CI that is every other
            # test's events first, which a SQLite database takes a while to go through.
            await eventually(lambda: topic.kinds() == ["opened", "closed"], timeout_s=90.0)
            await asyncio.sleep(1.5)  # time for a wrong second event to show up
            assert topic.kinds() == ["opened", "closed"]
            async with second.sessions() as db:
                states, total = await list_sessions(db, SessionFilter(station_id=station), 10, None)
            assert total == 1
            assert (states[0].status, states[0].energy_wh) == ("interrupted", 1100)
        finally:
            await second.stop()
