"""Graceful drain: SIGTERM on one of two gateway processes moves its stations to the other.

The stations reach the gateways through a small TCP balancer standing in for the Kubernetes
Service: it sends each new connection to a replica that still accepts. Nothing a station got
acknowledged may be missing from Kafka afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.platform.bus import decode
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.platform.embedded_broker import free_port
from chargegrid.platform.grpc import create_channel
from chargegrid.platform.grpc.tokens import ensure_bootstrap_tokens
from chargegrid.simulator import Fleet, StationConfig

STATIONS = 200


@dataclass
class GatewayProcess:
    pod: str
    ocpp_port: int
    grpc_port: int
    process: subprocess.Popen[bytes]


class Balancer:
    """Round-robin TCP forwarding to the backends that accept a connection."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in self.backends:
            port = self.backends[next(self._next)]
            with contextlib.suppress(OSError):
                return await asyncio.open_connection("127.0.0.1", port)
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


def _start_gateway(pod: str, bootstrap: str, var_dir: Path, service_token: str) -> GatewayProcess:
    ocpp_port, grpc_port = free_port(), free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CHARGEGRID_POD_NAME": pod,
        "CHARGEGRID_VAR_DIR": str(var_dir),
        "CHARGEGRID_API_TOKENS_FILE": str(var_dir / "api-tokens.json"),
        "CHARGEGRID_SERVICE_TOKEN": service_token,
        "CHARGEGRID_GATEWAY_OCPP_HOST": "127.0.0.1",
        "CHARGEGRID_GATEWAY_OCPP_PORT": str(ocpp_port),
        "CHARGEGRID_GATEWAY_GRPC_HOST": "127.0.0.1",
        "CHARGEGRID_GATEWAY_GRPC_PORT": str(grpc_port),
        "CHARGEGRID_GATEWAY_METRICS_PORT": "0",
        "CHARGEGRID_GATEWAY_KAFKA_TOPIC_PARTITIONS": "2",
        "CHARGEGRID_GATEWAY_BOOT_FALLBACK": "accepted",
        "CHARGEGRID_GATEWAY_REQUIRE_BASIC_AUTH": "false",
        "CHARGEGRID_GATEWAY_HEARTBEAT_INTERVAL_S": "1",
        "CHARGEGRID_GATEWAY_DRAIN_RATE_PER_S": "100",
        "CHARGEGRID_LOG_LEVEL": "WARNING",
    }
    for key in ("CHARGEGRID_STATIONS_ADDRESS", "CHARGEGRID_AUTHORIZATION_ADDRESS"):
        env.pop(key, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "chargegrid.gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(var_dir / f"{pod}.log").open("wb"),
    )
    return GatewayProcess(pod, ocpp_port, grpc_port, process)


async def _listening(port: int, timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return


@pytest.fixture
def gateways(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[list[GatewayProcess], str]]:
    admin, service = ensure_bootstrap_tokens(tmp_path)
    started = [_start_gateway(pod, kafka_bootstrap, tmp_path, service) for pod in ("gw-a", "gw-b")]
    try:
        yield started, admin
    finally:
        for gateway in started:
            if gateway.process.poll() is None:
                gateway.process.kill()
            gateway.process.wait()


async def _held_by(grpc_port: int, token: str, pod: str) -> set[str]:
    channel = create_channel(f"127.0.0.1:{grpc_port}", token=token)
    try:
        stub = pb_grpc.StationControlStub(channel)
        reply = await stub.ListConnections(pb.ListConnectionsRequest(gateway_pod=pod))
        held = {c.station_id for c in reply.connections}
        while reply.next_page_token:
            reply = await stub.ListConnections(
                pb.ListConnectionsRequest(
                    gateway_pod=pod,
                    page=PageRequest(page_token=reply.next_page_token),
                )
            )
            held |= {c.station_id for c in reply.connections}
        return held
    finally:
        await channel.close()


async def _station_event_counts(bootstrap: str) -> Counter[tuple[str, str]]:
    """(station id, event type) -> how many such events Kafka holds."""
    consumer = AIOKafkaConsumer(
        STATION_EVENTS,
        bootstrap_servers=bootstrap,
        group_id=f"drain-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    counts: Counter[tuple[str, str]] = Counter()
    try:
        idle = 0
        while idle < 6:
            batch = await consumer.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for record in records:
                    envelope = decode(record.value)
                    counts[(envelope.station_id, envelope.type)] += 1
    finally:
        await consumer.stop()
    return counts


@pytest.fixture
async def balancer(
    gateways: tuple[list[GatewayProcess], str],
) -> AsyncIterator[Balancer]:
    processes, _ = gateways
    for gateway in processes:
        await _listening(gateway.ocpp_port)
        await _listening(gateway.grpc_port)
    running = Balancer([g.ocpp_port for g in processes])
    await running.start()
    yield running
    await running.stop()


@pytest.mark.timeout(240)
async def test_sigterm_moves_every_station_to_the_other_replica_losing_nothing(
    gateways: tuple[list[GatewayProcess], str], balancer: Balancer, kafka_bootstrap: str
) -> None:
    (gw_a, gw_b), token = gateways
    prefix = f"DRAIN-{uuid.uuid4().hex[:4]}-"
    template = StationConfig(
        station_id=f"{prefix}0001", reconnect_min_s=0.2, reconnect_max_s=2.0, security_events=False
    )
    fleet = Fleet(
        f"ws://127.0.0.1:{balancer.port}/ocpp",
        STATIONS,
        "1.6",
        template=template,
        id_prefix=prefix,
        ramp_up_per_s=200,
    )
    await fleet.start()
    try:
        await fleet.wait_registered(60)
        names = {station.station_id for station in fleet.stations}
        on_a = await _held_by(gw_a.grpc_port, token, gw_a.pod)
        assert 0 < len(on_a) < STATIONS  # the balancer spread them
        await asyncio.sleep(2)  # heartbeats every second, on both replicas

        gw_a.process.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(gw_a.process.wait, 60)
        assert exit_code == 0

        async with asyncio.timeout(60):
            while (held := await _held_by(gw_b.grpc_port, token, gw_b.pod)) != names:
                await asyncio.sleep(0.5)
        assert held == names
        await asyncio.sleep(2)  # the moved stations keep talking through B
    finally:
        await fleet.stop()

    counts = await _station_event_counts(kafka_bootstrap)
    for station in fleet.stations:
        sid = station.station_id
        assert station.answered["Heartbeat"] > 0
        assert counts[(sid, "station.heartbeat")] >= station.answered["Heartbeat"], sid
        assert counts[(sid, "station.booted")] >= station.answered["BootNotification"], sid
        assert counts[(sid, "station.status_changed")] >= station.answered["StatusNotification"]
    moved = [s for s in fleet.stations if s.station_id in on_a]
    assert all(s.connection_count >= 2 for s in moved)
