"""`chargegrid logs` / `security-events`: requests, every page, downloads that verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import Result

from chargegrid.cli.logs_cmd import logs_app
from chargegrid.cli.main import app
from tests.unit.cli.fake_firmware import LOG_CONTENT, FakeFirmware, LogServer, invoke

Service = tuple[FakeFirmware, str]


def logs(firmware: Service, tmp_path: Path, *args: str, token: str = "t") -> Result:
    return invoke(logs_app, firmware[1], tmp_path, *args, token=token)


def test_request_sends_the_kind_and_the_time_range(firmware: Service, tmp_path: Path) -> None:
    fake, _ = firmware
    result = logs(
        firmware,
        tmp_path,
        *["request", "--station", "CP-1", "--kind", "security"],
        *["--oldest", "2026-11-01T00:00", "--latest", "2026-11-02T00:00+01:00"],
    )
    assert result.exit_code == 0, result.output
    request = fake.requests[0]
    assert (request.station_id, request.kind) == ("CP-1", "security")
    assert request.oldest.ToJsonString() == "2026-11-01T00:00:00Z"
    assert request.latest.ToJsonString() == "2026-11-01T23:00:00Z"
    assert "L-NEW" in result.output
    assert "Accepted" in result.output


def test_request_json_has_the_log_id_and_status(firmware: Service, tmp_path: Path) -> None:
    result = logs(firmware, tmp_path, "request", "--station", "CP-1", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["id"], shown["status"], shown["kind"]) == ("L-NEW", "Accepted", "diagnostics")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "everything"], "diagnostics or security"),
        (["--oldest", "last week"], "ISO 8601"),
        (["--oldest", "2026-11-02", "--latest", "2026-11-01"], "--oldest is after --latest"),
    ],
)
def test_request_usage_errors_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    result = invoke(logs_app, "127.0.0.1:1", tmp_path, "request", "--station", "CP-1", *extra)
    assert result.exit_code == 2
    assert message in result.output


def test_a_station_that_is_not_connected_is_one_clear_line(
    firmware: Service, tmp_path: Path
) -> None:
    result = logs(firmware, tmp_path, "request", "--station", "CP-OFF")
    assert result.exit_code == 1
    assert "FAILED_PRECONDITION: station CP-OFF is not connected" in result.output


def test_list_reads_every_page(firmware: Service, log_server: LogServer, tmp_path: Path) -> None:
    result = logs(firmware, tmp_path, "list", "--json")
    assert result.exit_code == 0, result.output
    assert [log["id"] for log in json.loads(result.output)] == ["L1", "L2", "L3", "L4"]
    table = logs(firmware, tmp_path, "list", "--station", "CP-2")
    assert "1 log file(s)" in table.output
    assert "Uploading" in table.output


def test_download_streams_to_the_file_and_verifies_the_checksum(
    firmware: Service, log_server: LogServer, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "cp1.zip"
    result = logs(firmware, tmp_path, "download", "L1", "-o", str(target), "--json")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == LOG_CONTENT
    shown = json.loads(result.output)
    assert shown["sha256"] == hashlib.sha256(LOG_CONTENT).hexdigest()
    assert (shown["verified"], shown["size_bytes"]) == (True, len(LOG_CONTENT))
    assert [p.name for p in target.parent.iterdir()] == ["cp1.zip"]


def test_download_without_o_uses_the_uploaded_name_inside_the_current_directory(
    firmware: Service, log_server: LogServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = logs(firmware, tmp_path, "download", "L1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "diag.zip").read_bytes() == LOG_CONTENT  # not ../diag.zip
    assert "sha256 verified" in result.output


def test_a_checksum_mismatch_fails_and_leaves_no_file(
    firmware: Service, log_server: LogServer, tmp_path: Path
) -> None:
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    result = logs(firmware, tmp_path, "download", "L3", "-o", str(target_dir / "l3.zip"))
    assert result.exit_code == 1
    assert "checksum mismatch" in result.output
    assert "Traceback" not in result.output
    assert list(target_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("log_id", "token", "message"),
    [
        ("L2", "t", "not uploaded yet (status: Uploading)"),
        ("L9", "t", "NOT_FOUND: no log file 'L9'"),
        ("L4", "t", "not found (404)"),
        ("L1", "wrong", "refused the API token (401)"),
    ],
)
def test_download_failures_are_one_clear_line_and_leave_no_file(
    firmware: Service,
    log_server: LogServer,
    tmp_path: Path,
    log_id: str,
    token: str,
    message: str,
) -> None:
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    result = logs(firmware, tmp_path, "download", log_id, "-o", str(target_dir / "x"), token=token)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert list(target_dir.iterdir()) == []


def test_an_unreachable_http_endpoint_is_one_clear_line(
    firmware: Service, log_server: LogServer, tmp_path: Path
) -> None:
    result = logs(
        firmware,
        tmp_path,
        *["download", "L1", "-o", str(tmp_path / "x"), "--http-url", "http://127.0.0.1:1"],
    )
    assert result.exit_code == 1
    assert "not reachable at http://127.0.0.1:1/logs/L1" in result.output


def test_security_events_read_every_page_with_the_filters(
    firmware: Service, tmp_path: Path
) -> None:
    fake, address = firmware
    result = invoke(
        app,
        address,
        tmp_path,
        *[
            "security-events",
            "list",
            "--station",
            "CP-1",
            "--type",
            "X",
            "--since",
            "2026-11-01T00:00",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)
    assert len(events) == 3
    assert [e.get("critical", False) for e in events] == [False, True, False]
    request = fake.requests[0]
    assert (request.station_id, request.type) == ("CP-1", "X")
    assert request.since.ToJsonString() == "2026-11-01T00:00:00Z"


def test_critical_security_events_stand_out(firmware: Service, tmp_path: Path) -> None:
    result = invoke(app, firmware[1], tmp_path, "security-events", "list")
    assert result.exit_code == 0, result.output
    assert "3 security event(s), 1 critical" in result.output
    assert "CRITICAL" in result.output
    assert "[lid]" in result.output  # tech info is shown as sent, not read as markup


def test_a_bad_since_is_refused_before_any_call(tmp_path: Path) -> None:
    result = invoke(app, "127.0.0.1:1", tmp_path, "security-events", "list", "--since", "today")
    assert result.exit_code == 2
    assert "ISO 8601" in result.output
