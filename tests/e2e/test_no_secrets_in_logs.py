"""A full flow with known secrets at DEBUG level: no service log line carries one of them, and
every service line is one JSON object (the libraries' lines included).

Secrets used: a station's Basic password (right and wrong, plain and base64 as in the
Authorization header), the password a rotation generates, the admin API token, a bogus API
token presented over gRPC. Only `chargegrid dev`'s own banner may print the admin token (it
is there to be copied); the services may not.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import websockets
from aiokafka import AIOKafkaConsumer, TopicPartition
from websockets.exceptions import InvalidStatus

from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.cli.stack import installed_services
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import EVSpec, StationConfig, create_station
from tests.e2e.conftest import Stack

PASSWORD = "correct-horse-battery-staple-42"
WRONG_PASSWORD = "wrong-horse-battery-staple-000"
BOGUS_TOKEN = "bogus-api-token-" + uuid.uuid4().hex
pytestmark = pytest.mark.timeout(300)
#: Secrets generated during the flow, for the Kafka check that runs after it.
SEEN_SECRETS: list[bytes] = []
SERVICE_LINE = re.compile(r"^\s*(?P<name>[a-z]+) \| (?P<line>.*)$")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("secrets"), args=("--log-level", "DEBUG"))
    try:
        running.wait_for_output("admin API token", 120)
        # The flow charges with SIMTAG0001: created after the banner, and slow at DEBUG.
        running.wait_for_output("simulator id tokens", 120)
        yield running
    finally:
        running.stop()


def _basic(station_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{station_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def _flow_with_secrets(stack: Stack, station_id: str) -> str:
    """Register, refuse, charge and rotate: returns the password the rotation generated."""
    stack.cli("stations", "add", station_id, "--password", PASSWORD)
    with pytest.raises(InvalidStatus):
        async with websockets.connect(
            f"{stack.ocpp_url}/{station_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=_basic(station_id, WRONG_PASSWORD),
        ):
            pass
    station = create_station(
        "1.6", StationConfig(station_id=station_id, password=PASSWORD), stack.ocpp_url
    )
    await station.start()
    try:
        await station.wait_registered(30)
        session = station.plug_in(
            1, ev=EVSpec(capacity_kwh=60, max_power_w=11_000), id_tag="SIMTAG0001"
        )
        await asyncio.wait_for(session.transaction_started.wait(), 90)
        rotated = await asyncio.to_thread(
            stack.cli, "stations", "set-password", station_id, "--push", "--json"
        )
    finally:
        await station.stop()
    async with create_channel(stack.address("stations"), token=BOGUS_TOKEN) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stations_grpc.StationsStub(channel).ListStations(
                stations_pb.ListStationsRequest()
            )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    answer = json.loads(rotated.stdout)
    assert answer["changed"], answer
    return str(answer["generated_password"])


async def test_no_secret_reaches_any_log_line_and_every_service_line_is_json(
    stack: Stack,
) -> None:
    station_id = "SECRETS-" + uuid.uuid4().hex[:8]
    rotated = await _flow_with_secrets(stack, station_id)
    SEEN_SECRETS.append(rotated.encode())
    await asyncio.sleep(2)  # the last lines of the flow reach the log
    secrets = {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "rotated password": rotated,
        "bogus API token": BOGUS_TOKEN,
        "admin API token": stack.admin_token,
        **{
            f"Authorization header ({label})": _basic(station_id, secret)["Authorization"][6:]
            for label, secret in (("right", PASSWORD), ("wrong", WRONG_PASSWORD))
        },
    }
    services = {spec.name for spec in installed_services()}
    service_lines: list[tuple[str, str]] = []
    for raw in stack.output().splitlines():
        found = SERVICE_LINE.match(raw)
        if found and found["name"] in services | {"broker"}:
            service_lines.append((found["name"], found["line"]))
    assert len(service_lines) > 100, "the stack printed almost nothing at DEBUG"
    leaks = [
        f"{label} in {name}: {line[:300]}"
        for name, line in service_lines
        for label, secret in secrets.items()
        if secret in line
    ]
    assert leaks == []
    not_json = []
    for name, line in service_lines:
        if name == "broker" or line.startswith("exited with code"):
            continue  # Tansu's own format; the supervisor's restart notice
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            not_json.append(f"{name}: {line[:200]}")
    assert not_json == []


async def _every_record(bootstrap: str) -> list[tuple[str, bytes]]:
    """Every record of every topic, read until the broker has had nothing more for 3 s (no
    end offsets: the embedded broker reports them wrong)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[tuple[str, bytes]] = []
        while True:
            batch = await consumer.getmany(timeout_ms=3000, max_records=5000)
            if not batch:
                return found
            found += [(tp.topic, r.value or b"") for tp, rs in batch.items() for r in rs]
    finally:
        await consumer.stop()


async def test_no_secret_is_kept_in_any_kafka_topic(stack: Stack) -> None:
    """The event log is kept for weeks and read by every service: the archived frames of a
    password rotation carry `***`, not the password."""
    records = await _every_record(stack.bootstrap)
    topics = {topic for topic, _ in records}
    assert "ocpp.frames.v1" in topics
    rotations = [value for topic, value in records if b"AuthorizationKey" in value]
    assert rotations, "the rotation's ChangeConfiguration was not archived"
    secrets = [PASSWORD.encode(), WRONG_PASSWORD.encode(), *SEEN_SECRETS]
    leaks = [topic for topic, value in records for secret in secrets if secret in value]
    assert leaks == []


def test_the_dev_stack_log_file_is_what_was_searched(stack: Stack) -> None:
    """Guards the test above: it read the stack's real output, with the flow's lines in it."""
    output = stack.output()
    assert "admin API token" in output
    assert Path(stack.var_dir, "admin.token").exists()
    assert '"level":"debug"' in output
