"""B05/B06 through a real gateway and a simulated 2.0.1 station that refuses more entries
than its ItemsPerMessage (50): 120 variables read and written in one command each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.gateway.app import GatewayApp
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.simulator import StationConfig, create_station
from tests.integration.gateway.test_two_replicas import _settings


@pytest.fixture
async def gateway_app(
    kafka_bootstrap: str, tmp_path: Path
) -> AsyncIterator[tuple[GatewayApp, str]]:
    registry = TokenRegistry(tmp_path / "tokens.json")
    service = registry.add("service", Role.SERVICE)
    operator = registry.add("operator", Role.OPERATOR)
    app = GatewayApp(_settings("gw-a", kafka_bootstrap, tmp_path / "tokens.json", service))
    await app.start()
    yield app, operator
    await app.stop()


async def test_B05_B06_get_and_set_variables_are_split_by_items_per_message(
    gateway_app: tuple[GatewayApp, str],
) -> None:
    app, operator = gateway_app
    station = create_station(
        "2.0.1", StationConfig(station_id="CP-ITEMS"), f"ws://127.0.0.1:{app.server.port}/ocpp"
    )
    await station.start()
    keys = ["TxCtrlr/EVConnectionTimeOut"] + [f"Nope/Var{i}" for i in range(119)]
    try:
        await station.wait_registered(10)
        async with create_channel(f"127.0.0.1:{app.grpc_port}", token=operator) as channel:
            stub = pb_grpc.StationControlStub(channel)
            read = await stub.GetConfiguration(
                pb.GetConfigurationRequest(station_id="CP-ITEMS", keys=keys)
            )
            written = await stub.SetConfiguration(
                pb.SetConfigurationRequest(
                    station_id="CP-ITEMS",
                    values=[pb.ConfigurationValue(key=k, value="61") for k in keys],
                )
            )
    finally:
        await station.stop()

    assert [v.key for v in read.values] == ["TxCtrlr/EVConnectionTimeOut"]
    assert list(read.unknown_keys) == keys[1:]
    assert [r.key for r in written.results] == keys
    assert [r.status for r in written.results][:2] == ["Accepted", "UnknownComponent"]
