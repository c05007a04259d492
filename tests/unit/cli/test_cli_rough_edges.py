"""The first hour of an operator: the `chargegrid` command starts fast, says its version,
refuses what it cannot do honestly and explains what went wrong in one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
import typer
from typer.testing import CliRunner

from chargegrid.api.session.v1 import session_pb2_grpc
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as pb_grpc
from chargegrid.cli.main import ChargegridGroup, app
from chargegrid.cli.output import UNBOUNDED_WIDTH, table

runner = CliRunner()
#: Modules that only the commands using them may import.
HEAVY = ("grpc", "chargegrid.api", "chargegrid.simulator", "sqlalchemy", "aiokafka", "rich")


class FakeStations(pb_grpc.StationsServicer):
    """Lists one station with long ids; a pushed password reaches no station (offline)."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def ListStations(self, request: Any, context: grpc.ServicerContext) -> Any:
        long_id = "CP-" + "7" * 60
        return pb.ListStationsReply(stations=[pb.Station(id=long_id, site_id="s" * 40)])

    def SetStationPassword(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.append(request)
        if request.push:
            return pb.SetStationPasswordReply(push_status="offline")
        return pb.SetStationPasswordReply(generated_password="Generated-Password-0123")


@pytest.fixture
def stations() -> Iterator[tuple[FakeStations, str]]:
    fake = FakeStations()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_StationsServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, f"127.0.0.1:{port}"
    server.stop(0)


@pytest.fixture
def sessions_only() -> Iterator[str]:
    """Another service's API only: "the wrong service" for stations commands."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    session_pb2_grpc.add_SessionsServicer_to_server(session_pb2_grpc.SessionsServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_version_prints_the_installed_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.startswith("chargegrid 0.")


def test_help_imports_no_command_group_nor_grpc_protos_or_the_simulator() -> None:
    probe = (
        "import sys\n"
        "from chargegrid.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        f"or m.startswith({HEAVY!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert "security-events" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", sorted(ChargegridGroup.groups))
def test_each_lazy_group_has_the_help_line_of_its_module(name: str) -> None:
    entry = ChargegridGroup.groups[name]
    loaded = entry.load()
    assert loaded.help == entry.help
    assert isinstance(loaded, typer.core.TyperGroup)


def test_an_empty_token_is_an_error_not_the_admin_token(tmp_path: Path) -> None:
    (tmp_path / "admin.token").write_text("admin-secret\n")
    for args, env in (
        (["--token", ""], {}),
        (["--token", "  "], {}),
        ([], {"CHARGEGRID_TOKEN": ""}),
    ):
        result = runner.invoke(
            app,
            ["stations", "list", "--var-dir", str(tmp_path), "--address", "127.0.0.1:1", *args],
            env=env,
        )
        assert result.exit_code == 2, (args, env, result.output)
        assert "the API token is empty" in result.output


def test_a_command_sent_to_the_wrong_service_says_so(sessions_only: str, tmp_path: Path) -> None:
    result = run("stations", "list", "--address", sessions_only, "--token", "t")
    assert result.exit_code == 1
    assert f"{sessions_only} does not answer this stations command" in result.output
    assert "CHARGEGRID_STATIONS_ADDRESS" in result.output
    assert "Method not found" not in result.output


def test_tables_are_not_cut_when_the_output_is_not_a_terminal(
    stations: tuple[FakeStations, str],
) -> None:
    _, address = stations
    result = run("stations", "list", "--address", address, "--token", "t")
    assert result.exit_code == 0, result.output
    assert "CP-" + "7" * 60 in result.output
    assert "s" * 40 in result.output


def test_a_wide_table_keeps_every_cell_whole(capsys: pytest.CaptureFixture[str]) -> None:
    cells = ["a" * 70, "b" * 70, "c" * 70]
    table("wide", ["one", "two", "three"], [cells])
    printed = capsys.readouterr().out
    assert all(cell in printed for cell in cells)
    assert max(len(line) for line in printed.splitlines()) < UNBOUNDED_WIDTH


def test_set_password_push_to_an_offline_station_fails_and_claims_no_update(
    stations: tuple[FakeStations, str],
) -> None:
    fake, address = stations
    result = run("stations", "set-password", "CP-1", "--push", "--address", address, "--token", "t")
    assert result.exit_code == 1
    assert "password of CP-1 not changed: the station answered offline" in result.output
    assert "updated" not in result.output
    assert fake.requests[0].push


def test_set_password_push_json_says_nothing_changed(stations: tuple[FakeStations, str]) -> None:
    _, address = stations
    result = runner.invoke(
        app,
        ["stations", "set-password", "CP-1", "--push", "--json", "--address", address],
        env={"CHARGEGRID_TOKEN": "t"},
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"push_status": "offline", "changed": False}


def test_set_password_without_push_shows_the_generated_password_once(
    stations: tuple[FakeStations, str],
) -> None:
    _, address = stations
    result = run("stations", "set-password", "CP-1", "--address", address, "--token", "t")
    assert result.exit_code == 0, result.output
    assert result.output.count("Generated-Password-0123") == 1
    assert "password of CP-1 updated" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_topics_create_against_no_broker_is_one_line_soon_and_exit_1() -> None:
    bootstrap = f"127.0.0.1:{_free_port()}"
    started = time.monotonic()
    result = run("topics", "create", "--bootstrap", bootstrap, "--wait-s", "1")
    assert result.exit_code == 1
    assert time.monotonic() - started < 10
    assert result.output.splitlines() == [
        f"error: Kafka at {bootstrap} is not reachable within 1 s: no answer"
    ]
