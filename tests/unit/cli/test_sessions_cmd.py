"""`chargegrid sessions`: filters reach the service, output for people and for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.session.v1 import session_pb2_grpc as pb_grpc
from chargegrid.api.transaction.v1.events_pb2 import IdToken, MeterSample
from chargegrid.cli.sessions_cmd import apply_change, live_table, sessions_app

runner = CliRunner()


def a_session(**overrides: Any) -> pb.Session:
    fields: dict[str, Any] = {
        "id": "CP-1:42",
        "station_id": "CP-1",
        "site_id": "site-1",
        "evse_id": 1,
        "connector_id": 1,
        "transaction_id": "42",
        "id_token": IdToken(id="TAG1", type="IdTag"),
        "status": pb.SESSION_STATUS_ACTIVE,
        "energy_wh": 12_345.0,
        "power_w": 7_200.0,
    }
    fields.update(overrides)
    return pb.Session(**fields)


class FakeSessions(pb_grpc.SessionsServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def ListSessions(self, request: Any, context: Any) -> pb.ListSessionsReply:
        self.requests.append(request)
        return pb.ListSessionsReply(sessions=[a_session()], total=1)

    def GetSession(self, request: Any, context: Any) -> pb.Session:
        if request.session_id != "CP-1:42":
            context.abort(grpc.StatusCode.NOT_FOUND, f"no session {request.session_id!r}")
        return a_session()

    def MeterSamples(self, request: Any, context: Any) -> pb.MeterSamplesReply:
        samples = [
            MeterSample(measurand="Energy.Active.Import.Register", unit="Wh", value=v)
            for v in (1000.0, 1500.0, 2000.0)
        ]
        return pb.MeterSamplesReply(samples=samples)

    def EndSession(self, request: Any, context: Any) -> pb.Session:
        self.requests.append(request)
        if request.session_id != "CP-1:42":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "session is already completed")
        return a_session(status=pb.SESSION_STATUS_INTERRUPTED, stop_reason="EndedByOperator")

    def WatchSessions(self, request: Any, context: Any) -> Iterator[pb.SessionChange]:
        self.requests.append(request)
        yield pb.SessionChange(kind="snapshot", session=a_session())
        yield pb.SessionChange(kind="closed", session=a_session(status=pb.SESSION_STATUS_COMPLETED))


@pytest.fixture
def service() -> Iterator[tuple[FakeSessions, str]]:
    fake = FakeSessions()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_SessionsServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, f"127.0.0.1:{port}"
    server.stop(0)


def invoke(address: str, tmp_path: Path, *args: str) -> Any:
    return runner.invoke(
        sessions_app, [*args, "--address", address, "--token", "t", "--var-dir", str(tmp_path)]
    )


def test_list_sends_the_filters_and_prints_json(
    service: tuple[FakeSessions, str], tmp_path: Path
) -> None:
    fake, address = service
    result = invoke(
        address,
        tmp_path,
        "list",
        "--station",
        "CP-1",
        "--status",
        "active",
        "--since",
        "2026-11-02T08:00",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["id"] == "CP-1:42"
    request = fake.requests[0]
    assert (request.station_id, request.status) == ("CP-1", pb.SESSION_STATUS_ACTIVE)
    assert request.since.ToJsonString() == "2026-11-02T08:00:00Z"


def test_a_bad_status_is_refused_before_any_call(tmp_path: Path) -> None:
    result = invoke("127.0.0.1:1", tmp_path, "list", "--status", "maybe")
    assert result.exit_code == 2
    assert "active, completed or interrupted" in result.output


def test_show_summarises_the_samples(service: tuple[FakeSessions, str], tmp_path: Path) -> None:
    _, address = service
    result = invoke(address, tmp_path, "show", "CP-1:42", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["session"]["energy_wh"] == 12345.0
    assert shown["samples"] == [
        {
            "measurand": "Energy.Active.Import.Register",
            "phase": "",
            "unit": "Wh",
            "count": 3,
            "first": "",
            "last": "",
            "min": 1000.0,
            "max": 2000.0,
            "last_value": 2000.0,
        }
    ]
    table = invoke(address, tmp_path, "show", "CP-1:42")
    assert "12.345 kWh" in table.output


def test_show_of_an_unknown_session_is_one_clear_line(
    service: tuple[FakeSessions, str], tmp_path: Path
) -> None:
    _, address = service
    result = invoke(address, tmp_path, "show", "CP-9:9")
    assert result.exit_code == 1
    assert "NOT_FOUND: no session 'CP-9:9'" in result.output


def test_watch_json_prints_one_line_per_change(
    service: tuple[FakeSessions, str], tmp_path: Path
) -> None:
    fake, address = service
    result = invoke(address, tmp_path, "watch", "--site", "site-1", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["kind"] for line in lines] == ["snapshot", "closed"]
    assert fake.requests[0].snapshot
    assert fake.requests[0].site_id == "site-1"


def test_a_piped_watch_prints_one_line_per_change_instead_of_a_live_table(
    service: tuple[FakeSessions, str], tmp_path: Path
) -> None:
    _, address = service
    result = invoke(address, tmp_path, "watch")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["snapshot", "CP-1:42", "active"],
        ["closed", "CP-1:42", "completed"],
    ]
    assert "token=TAG1" in lines[0]


def test_the_live_table_shows_active_sessions() -> None:
    active: dict[str, pb.Session] = {}
    apply_change(active, pb.SessionChange(kind="snapshot", session=a_session()))
    assert live_table(active).row_count == 1
    closed = a_session(status=pb.SESSION_STATUS_COMPLETED)
    apply_change(active, pb.SessionChange(kind="closed", session=closed))
    assert live_table(active).row_count == 0


@pytest.mark.parametrize("spelling", ["--id-token", "--token-id"])
def test_the_id_token_filter_is_id_token_as_in_cdrs_and_the_old_spelling_still_works(
    service: tuple[FakeSessions, str], tmp_path: Path, spelling: str
) -> None:
    fake, address = service
    result = invoke(address, tmp_path, "list", spelling, "TAG1", "--json")
    assert result.exit_code == 0, result.output
    assert fake.requests[0].id_token == "TAG1"


def test_the_old_id_token_spelling_is_not_shown_in_help() -> None:
    result = runner.invoke(sessions_app, ["list", "--help"])
    assert "--id-token" in result.output
    assert "--token-id" not in result.output


def test_end_closes_the_named_session_and_says_so(
    service: tuple[FakeSessions, str], tmp_path: Path
) -> None:
    fake, address = service
    result = invoke(address, tmp_path, "end", "CP-1:42")
    assert result.exit_code == 0, result.output
    assert "session CP-1:42 ended (interrupted, 12.345 kWh)" in result.output
    assert fake.requests[-1].session_id == "CP-1:42"


def test_ending_a_session_no_longer_active_fails_with_the_reason(
    service: tuple[FakeSessions, str], tmp_path: Path
) -> None:
    _, address = service
    result = invoke(address, tmp_path, "end", "CP-1:41")
    assert result.exit_code == 1
    assert "already completed" in result.output
