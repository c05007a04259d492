"""The whole service against the embedded broker: events in, registry and watchers updated,
an accepted boot reconciled through the gateway, and every replica's watchers fed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as pb_grpc
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import STATION_EVENTS, default_topic_specs, ensure_topics
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.stations.app import StationsApp
from chargegrid.stations.settings import StationsSettings
from chargegrid.stations.watch import StatusHub, UpdateTranslator, WatchFeed
from tests.integration.stations.builders import FakeStation
from tests.integration.stations.conftest import Gateway

FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}


async def eventually(check: Callable[[], object], timeout_s: float = 30.0) -> None:
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


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    await ensure_topics(kafka_bootstrap, default_topic_specs())
    started = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=5))
    await started.start()
    yield started
    await started.stop()


async def test_events_update_the_registry_watchers_and_reconcile_an_accepted_boot(
    database_url: str,
    kafka_bootstrap: str,
    producer: EventProducer,
    gateway: Gateway,
    tmp_path: Path,
) -> None:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    operator = registry.add("operator", Role.OPERATOR)
    settings = StationsSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        api_tokens_file=tmp_path / "api-tokens.json",
        consumer_group=f"stations-{uuid.uuid4().hex[:8]}",
        gateway_address=gateway.target,
        service_token=gateway.token,
        unknown_station_policy="accept",
    )
    app = StationsApp(settings, consumer_tuning=FAST_GROUP)
    await app.start()
    channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=operator)
    try:
        health_stub: Any = health_pb2_grpc.HealthStub(channel)
        health = await health_stub.Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = pb_grpc.StationsStub(channel)
        station_id = f"CP-{uuid.uuid4().hex[:8]}"
        gateway.control.online[station_id] = FakeStation(config={"HeartbeatInterval": "300"})
        await stub.SetDesiredConfiguration(
            pb.SetDesiredConfigurationRequest(
                scope=pb.ConfigurationScope(vendor_model="Acme/Volt 16"),
                entries=[pb.ConfigurationEntry(key="HeartbeatInterval", value="120")],
            )
        )
        stream = stub.WatchStatus(pb.WatchStatusRequest(station_id="", snapshot=False))
        factory = EnvelopeFactory("gateway/test")
        for kind, payload in [
            ("connected", ev.StationConnected(gateway_pod="gw-a", ocpp_version=1)),
            (
                "booted",
                ev.StationBooted(vendor="Acme", model="Volt 16", registration_status="Accepted"),
            ),
            ("status_changed", ev.StatusChanged(evse_id=1, connector_id=1, status=3)),
        ]:
            envelope = factory.wrap(f"station.{kind}", station_id, payload)
            await producer.publish(STATION_EVENTS, envelope)

        seen: list[tuple[str, int]] = []
        async for update in stream:
            if update.station_id == station_id:
                seen.append((update.kind, update.status))
            if len(seen) == 2:
                break
        stream.cancel()
        assert seen == [("online", 0), ("status", 3)]

        async def registered() -> bool:
            try:
                station = await stub.GetStation(pb.GetStationRequest(station_id=station_id))
            except grpc.aio.AioRpcError:
                return False  # the consumer has not got there yet
            return station.online and len(station.evses) == 1 and station.vendor == "Acme"

        await eventually(registered)
        await eventually(
            lambda: gateway.control.online[station_id].config["HeartbeatInterval"] == "120"
        )
        await app.background.idle()
        state = await stub.GetConfigurationState(
            pb.GetConfigurationStateRequest(station_id=station_id)
        )
        assert [(k.key, k.status, k.desired_from) for k in state.keys] == [
            ("HeartbeatInterval", "Accepted", "vendor_model")
        ]
    finally:
        await channel.close()
        await app.stop()


async def test_every_replicas_watchers_see_every_station(
    kafka_bootstrap: str, producer: EventProducer
) -> None:
    async def no_site(_station_id: str) -> str:
        return ""

    hubs = [StatusHub(), StatusHub()]
    feeds = [WatchFeed(kafka_bootstrap, hub, UpdateTranslator(no_site)) for hub in hubs]
    subscriptions = [hub.subscribe() for hub in hubs]
    for feed in feeds:
        await feed.start()
    tasks = [asyncio.create_task(feed.run()) for feed in feeds]
    try:
        factory = EnvelopeFactory("gateway/test")
        stations = [f"W-{uuid.uuid4().hex[:6]}-{n}" for n in range(6)]  # spread over partitions
        for station_id in stations:
            await producer.publish(
                STATION_EVENTS,
                factory.wrap("station.connected", station_id, ev.StationConnected(gateway_pod="a")),
            )
        for subscription in subscriptions:
            got: set[str] = set()
            while not set(stations) <= got:
                update = await asyncio.wait_for(subscription.next(), 20)
                got.add(update.station_id)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for feed in feeds:
            await feed.stop()
