"""`chargegrid ops`: every fleet command takes the shared options, selects, commands, reports.

Fake StationControl and Stations services run over real gRPC; the commands are run as an
operator would, through the `chargegrid` app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner, Result

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.cli.config_keys import key_for, keys_to_read
from chargegrid.cli.main import app

COMMANDS = [
    "reset",
    "unlock",
    "availability",
    "trigger",
    "clear-cache",
    "data-transfer",
    "get-config",
    "set-config",
]
SHARED = ["--station", "--site", "--model", "--status", "--concurrency", "--json", "--address"]
SHARED += ["--stations-address", "--token", "--var-dir"]


class FakeControl(pb_grpc.StationControlServicer):
    """Accepts everything except for OFFLINE-* stations; remembers each request."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def _answer(self, request: Any, context: grpc.ServicerContext, status: str) -> Any:
        self.requests.append(request)
        if request.station_id.startswith("OFFLINE"):
            context.abort(grpc.StatusCode.NOT_FOUND, f"{request.station_id} is not connected")
        return pb.CommandReply(status=status)

    def Reset(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(request, context, "Accepted")

    def ChangeAvailability(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(request, context, "Scheduled")

    def SetConfiguration(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.append(request)
        return pb.SetConfigurationReply(
            results=[
                pb.SetConfigurationResult(key=value.key, status="RebootRequired")
                for value in request.values
            ]
        )


#: The registry of FakeStations: station id -> OCPP version (1 = 1.6, 2 = 2.0.1).
REGISTRY = {"CP-1": 1, "CP-2": 1, "CP-3": 1, "OFFLINE-1": 1, "CP-201": 2}


class FakeStations(stations_grpc.StationsServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def GetStation(self, request: Any, context: grpc.ServicerContext) -> Any:
        if request.station_id not in REGISTRY:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no station {request.station_id!r}")
        return stations_pb.Station(id=request.station_id, ocpp_version=REGISTRY[request.station_id])

    def ListStations(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.append(request)
        found = {"S1": ["CP-1", "CP-2"], "S2": ["CP-3"]}.get(request.site_id, [])
        return stations_pb.ListStationsReply(stations=[stations_pb.Station(id=s) for s in found])


Services = tuple[FakeControl, FakeStations, list[str]]


@pytest.fixture
def services() -> Iterator[Services]:
    control, stations = FakeControl(), FakeStations()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_StationControlServicer_to_server(control, server)
    stations_grpc.add_StationsServicer_to_server(stations, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    address = f"127.0.0.1:{port}"
    yield control, stations, ["--address", address, "--stations-address", address]
    server.stop(0)


def ops(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["ops", *args, "--token", "t", "--var-dir", str(tmp_path)], catch_exceptions=False
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_fleet_command_takes_the_shared_options(command: str) -> None:
    result = CliRunner().invoke(app, ["ops", command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for option in SHARED:
        assert option in result.output, (command, option)


def test_a_command_without_a_selection_is_refused(tmp_path: Path) -> None:
    result = ops(tmp_path, "reset")
    assert result.exit_code == 2
    assert "give --station ID" in result.output


def test_a_reset_goes_to_each_named_station_and_offline_ones_fail_the_command(
    services: Services, tmp_path: Path
) -> None:
    control, _, addresses = services
    result = ops(
        tmp_path, "reset", "--hard", "--station", "CP-1", "--station", "OFFLINE-1", "--json",
        *addresses,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    outcomes = {row["station_id"]: row["outcome"] for row in json.loads(result.output)}
    assert outcomes == {"CP-1": "accepted", "OFFLINE-1": "offline"}
    assert [r.kind for r in control.requests] == [pb.RESET_KIND_HARD, pb.RESET_KIND_HARD]


def test_a_site_selection_is_resolved_through_the_registry(
    services: Services, tmp_path: Path
) -> None:
    control, stations, addresses = services
    result = ops(tmp_path, "availability", "--inoperative", "--site", "S1", "--json", *addresses)
    assert result.exit_code == 0, result.output
    assert [s.site_id for s in stations.requests] == ["S1"]
    assert sorted(r.station_id for r in control.requests) == ["CP-1", "CP-2"]
    assert not any(r.operative for r in control.requests)


def test_set_config_checks_its_pairs_before_contacting_anything(
    services: Services, tmp_path: Path
) -> None:
    control, stations, addresses = services
    result = ops(tmp_path, "set-config", "--set", "no-equals-sign", "--station", "CP-1", *addresses)
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.output
    assert control.requests == []
    assert stations.requests == []
    result = ops(
        tmp_path, "set-config", "--set", "HeartbeatInterval=60", "--station", "CP-1", "--json",
        *addresses,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["detail"] == "HeartbeatInterval: RebootRequired"


def test_a_station_the_registry_does_not_know_is_unknown_not_offline(
    services: Services, tmp_path: Path
) -> None:
    control, _, addresses = services
    result = ops(
        tmp_path, "reset", "--station", "CP-1", "--station", "NO-SUCH", "--json", *addresses
    )
    assert result.exit_code == 1, result.output
    outcomes = {row["station_id"]: row["outcome"] for row in json.loads(result.output)}
    assert outcomes == {"CP-1": "accepted", "NO-SUCH": "unknown"}
    assert [r.station_id for r in control.requests] == ["CP-1"]


def test_set_config_names_well_known_keys_the_way_each_stations_version_does(
    services: Services, tmp_path: Path
) -> None:
    control, _, addresses = services
    result = ops(
        tmp_path, "set-config", "--set", "HeartbeatInterval=120", "--set", "Vendor/Custom=1",
        "--station", "CP-1", "--station", "CP-201", "--json", *addresses,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sent = {r.station_id: [v.key for v in r.values] for r in control.requests}
    assert sent == {
        "CP-1": ["HeartbeatInterval", "Vendor/Custom"],
        "CP-201": ["OCPPCommCtrlr/HeartbeatInterval", "Vendor/Custom"],
    }


def test_get_config_without_keys_reads_the_well_known_variables_of_a_2x_station() -> None:
    assert keys_to_read([], 1) == []
    assert "OCPPCommCtrlr/HeartbeatInterval" in keys_to_read([], 2)
    assert keys_to_read(["HeartbeatInterval", "MeterValueSampleInterval"], 3) == [
        "OCPPCommCtrlr/HeartbeatInterval",
        "SampledDataCtrlr/TxUpdatedInterval",
    ]
    assert key_for("HeartbeatInterval", 1) == "HeartbeatInterval"
    assert key_for("NotWellKnown", 2) == "NotWellKnown"  # the gateway says which form to use


def test_a_gateway_address_that_is_another_service_is_one_line_not_a_table(
    services: Services, tmp_path: Path
) -> None:
    _, _, addresses = services
    stations_address = addresses[3]
    # "The gateway" at --address serves the Stations API only.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    stations_grpc.add_StationsServicer_to_server(FakeStations(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        wrong = f"127.0.0.1:{port}"
        result = ops(
            tmp_path, "reset", "--station", "CP-1", "--address", wrong,
            "--stations-address", stations_address,
        )  # fmt: skip
    finally:
        server.stop(0)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: {wrong} does not answer this gateway command: it is another service, or an "
        "older gateway service (check --address / CHARGEGRID_GATEWAY_ADDRESS)"
    )
