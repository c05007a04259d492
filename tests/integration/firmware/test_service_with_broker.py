"""The whole service against the embedded broker: real envelopes on station.events.v1 drive
an update to SUCCEEDED and store security events; the HTTP endpoint takes an upload."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.firmware.app import FirmwareApp
from chargegrid.firmware.settings import FirmwareSettings
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import STATION_EVENTS, default_topic_specs, ensure_topics
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.simulator.http_transfer import upload
from tests.integration.firmware.conftest import Gateway

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


async def test_station_events_drive_updates_and_security_events(
    database_url: str,
    kafka_bootstrap: str,
    producer: EventProducer,
    gateway: Gateway,
    tmp_path: Path,
) -> None:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    operator = registry.add("operator", Role.OPERATOR)
    settings = FirmwareSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        http_host="127.0.0.1",
        http_port=0,
        var_dir=tmp_path,
        api_tokens_file=tmp_path / "api-tokens.json",
        consumer_group=f"firmware-{uuid.uuid4().hex[:8]}",
        gateway_address=gateway.target,
        service_token=gateway.token,
    )
    app = FirmwareApp(settings, consumer_tuning=FAST_GROUP)
    await app.start()
    channel = create_channel(f"127.0.0.1:{app.grpc_port}", token=operator)
    try:
        health_stub: Any = health_pb2_grpc.HealthStub(channel)
        health = await health_stub.Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = pb_grpc.FirmwareStub(channel)
        station_id = f"CP-{uuid.uuid4().hex[:8]}"
        gateway.control.online[station_id] = "Accepted"
        added = await stub.AddImage(
            pb.AddImageRequest(image=pb.FirmwareImage(version="3.1", location="https://fw/3.1"))
        )
        sent = await stub.UpdateStation(
            pb.UpdateStationRequest(station_id=station_id, image_id=added.id)
        )
        assert sent.state == pb.UPDATE_STATE_IN_PROGRESS
        factory = EnvelopeFactory("gateway/test")
        for kind, payload in [
            (
                "firmware_status",
                ev.FirmwareStatusChanged(status="Downloaded", request_id=sent.request_id),
            ),
            (
                "firmware_status",
                ev.FirmwareStatusChanged(status="Installed", request_id=sent.request_id),
            ),
            ("booted", ev.StationBooted(firmware_version="3.1", registration_status="Accepted")),
            ("security_event", ev.SecurityEventReceived(type="TamperDetectionActivated")),
        ]:
            await producer.publish(
                STATION_EVENTS, factory.wrap(f"station.{kind}", station_id, payload)
            )

        async def succeeded() -> bool:
            update = await stub.GetStationUpdate(pb.GetStationUpdateRequest(station_id=station_id))
            return bool(update.state == pb.UPDATE_STATE_SUCCEEDED)

        await eventually(succeeded)

        async def alerted() -> bool:
            listed = await stub.ListSecurityEvents(
                pb.ListSecurityEventsRequest(station_id=station_id)
            )
            return [(e.type, e.critical) for e in listed.events] == [
                ("TamperDetectionActivated", True)
            ]

        await eventually(alerted)

        requested = await stub.RequestLogs(pb.RequestLogsRequest(station_id=station_id))
        location = gateway.control.log_requests[-1].location
        assert location.startswith(f"http://127.0.0.1:{app.http_port}/uploads/")
        assert await asyncio.to_thread(upload, location, "d.log", b"x", method="PUT", timeout_s=5)
        [stored] = (await stub.ListLogs(pb.ListLogsRequest(station_id=station_id))).logs
        assert (stored.id, stored.size_bytes, stored.status) == (requested.id, 1, "Uploaded")
        assert (tmp_path / "firmware-uploads" / f"{stored.id}-d.log").read_bytes() == b"x"
    finally:
        await channel.close()
        await app.stop()
