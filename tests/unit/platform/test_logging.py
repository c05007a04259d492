"""Logs are JSON lines with station and trace ids, and never carry secrets."""

import json

import pytest

from chargegrid.platform.logging import bind_station, configure_logging, get_logger, unbind_station
from chargegrid.platform.telemetry import get_tracer, setup_telemetry


def _last_json_line(out: str) -> dict[str, object]:
    return json.loads(out.strip().splitlines()[-1])


def test_a_log_line_is_json_with_the_station_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test-service")
    bind_station("CP-1")
    try:
        get_logger("t").info("booted", vendor="ACME")
    finally:
        unbind_station()
    line = _last_json_line(capsys.readouterr().out)
    assert line["event"] == "booted"
    assert line["station_id"] == "CP-1"
    assert line["service"] == "test-service"


def test_secrets_are_masked_whatever_the_key_case(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test-service")
    get_logger().warning("auth failed", Password="hunter2", api_token="abc", user="cp")
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "abc" not in out
    assert _last_json_line(out)["user"] == "cp"


def test_log_lines_inside_a_span_carry_its_trace_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test-service")
    setup_telemetry("test-service")
    with get_tracer("t").start_as_current_span("work") as span:
        get_logger().info("inside")
        expected = format(span.get_span_context().trace_id, "032x")
    assert _last_json_line(capsys.readouterr().out)["trace_id"] == expected


def test_library_log_lines_come_out_as_the_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    configure_logging("test-service")
    logging.getLogger("aiokafka.consumer.group_coordinator").warning("Heartbeat failed: %s", "g1")
    try:
        raise ValueError("broken revision")
    except ValueError:
        logging.getLogger("alembic.runtime.migration").exception("migration failed")
    lines = [json.loads(raw) for raw in capsys.readouterr().out.strip().splitlines()]
    assert lines[0]["event"] == "Heartbeat failed: g1"
    assert lines[0]["logger"] == "aiokafka.consumer.group_coordinator"
    assert lines[0]["level"] == "warning"
    assert lines[0]["service"] == "test-service"
    assert "broken revision" in str(lines[1]["exception"])


def test_console_format_is_chosen_by_the_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARGEGRID_LOG_FORMAT", "console")
    configure_logging("test-service")
    get_logger().info("readable", station="CP-1", password="hunter2")
    out = capsys.readouterr().out
    assert "readable" in out
    assert not out.lstrip().startswith("{")
    assert "hunter2" not in out
