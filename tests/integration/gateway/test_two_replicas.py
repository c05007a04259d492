"""Two gateway replicas on one broker: a station held by A is commanded through B."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import orjson
import pytest

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.gateway.app import GatewayApp
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.simulator import StationConfig, create_station


def _settings(pod: str, bootstrap: str, tokens: Path, service_token: str) -> GatewaySettings:
    return GatewaySettings(
        pod_name=pod,
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        grpc_host="127.0.0.1",
        grpc_port=0,
        kafka_bootstrap_servers=bootstrap,
        kafka_topic_partitions=2,
        api_tokens_file=tokens,
        service_token=service_token,
        boot_fallback="accepted",
        authorize_fallback="accepted",
        call_timeout_s=5,
        require_basic_auth=False,  # anonymous stations, as `make run` allows
    )


@pytest.fixture
async def replicas(
    kafka_bootstrap: str, tmp_path: Path
) -> AsyncIterator[tuple[GatewayApp, GatewayApp, str]]:
    registry = TokenRegistry(tmp_path / "tokens.json")
    service = registry.add("service", Role.SERVICE)
    operator = registry.add("operator", Role.OPERATOR)
    apps = [
        GatewayApp(_settings(pod, kafka_bootstrap, tmp_path / "tokens.json", service))
        for pod in ("gw-a", "gw-b")
    ]
    for app in apps:
        await app.start()
    yield apps[0], apps[1], operator
    for app in apps:
        await app.stop()


async def _eventually_owned(app: GatewayApp, station_id: str, pod: str) -> None:
    for _ in range(200):
        owner = app.directory.owner(station_id)
        if owner is not None and owner.gateway_pod == pod:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{app.settings.pod_name} never learned that {pod} holds {station_id}")


async def test_a_station_on_replica_a_is_commanded_through_replica_b(
    replicas: tuple[GatewayApp, GatewayApp, str],
) -> None:
    a, b, operator = replicas
    station = create_station(
        "1.6", StationConfig(station_id="CP-TWO"), f"ws://127.0.0.1:{a.server.port}/ocpp"
    )
    await station.start()
    try:
        await station.wait_registered(10)
        await _eventually_owned(b, "CP-TWO", "gw-a")
        async with create_channel(f"127.0.0.1:{b.grpc_port}", token=operator) as channel:
            stub = pb_grpc.StationControlStub(channel)
            reply = await stub.TriggerMessage(
                pb.TriggerMessageRequest(station_id="CP-TWO", message="Heartbeat")
            )
            assert reply.status == "Accepted"
            listing = await stub.ListConnections(pb.ListConnectionsRequest())
            assert [(c.station_id, c.gateway_pod) for c in listing.connections] == [
                ("CP-TWO", "gw-a")
            ]
            with pytest.raises(grpc.aio.AioRpcError) as offline:
                await stub.Reset(pb.ResetRequest(station_id="CP-NOWHERE"))
            assert offline.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await station.stop()


async def test_raw_calls_are_schema_checked_before_they_are_sent(
    replicas: tuple[GatewayApp, GatewayApp, str], tmp_path: Path
) -> None:
    a, _, _ = replicas
    admin = TokenRegistry(tmp_path / "tokens.json").add("admin", Role.ADMIN)
    station = create_station(
        "1.6", StationConfig(station_id="CP-RAW"), f"ws://127.0.0.1:{a.server.port}/ocpp"
    )
    await station.start()
    try:
        await station.wait_registered(10)
        async with create_channel(f"127.0.0.1:{a.grpc_port}", token=admin) as channel:
            stub = pb_grpc.StationControlStub(channel)
            good = await stub.Call(
                pb.RawCallRequest(station_id="CP-RAW", action="GetConfiguration", payload_json="{}")
            )
            assert "configurationKey" in orjson.loads(good.payload_json)
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await stub.Call(
                    pb.RawCallRequest(
                        station_id="CP-RAW", action="Reset", payload_json='{"type": "Sideways"}'
                    )
                )
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await station.stop()


async def test_held_stations_are_announced_again_periodically(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    registry = TokenRegistry(tmp_path / "tokens.json")
    settings = _settings(
        "gw-r", kafka_bootstrap, tmp_path / "tokens.json", registry.add("service", Role.SERVICE)
    )
    settings.presence_refresh_s = 0.3
    app = GatewayApp(settings)
    await app.start()
    announced: list[str] = []
    real_announce = app.presence.announce

    async def counting(info, *, online):  # type: ignore[no-untyped-def]
        announced.append(info.station_id)
        return await real_announce(info, online=online)

    app.presence.announce = counting  # type: ignore[method-assign]
    station = create_station(
        "1.6", StationConfig(station_id="CP-REFRESH"), f"ws://127.0.0.1:{app.server.port}/ocpp"
    )
    await station.start()
    try:
        await station.wait_registered(10)
        for _ in range(100):
            if announced.count("CP-REFRESH") >= 3:
                break
            await asyncio.sleep(0.05)
        assert announced.count("CP-REFRESH") >= 3
    finally:
        await station.stop()
        await app.stop()
