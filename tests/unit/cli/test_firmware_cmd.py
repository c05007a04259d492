"""`chargegrid firmware`: images, single-station updates and campaigns against a fake service."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.cli.api import service_address
from chargegrid.cli.campaigns_cmd import parse_window
from chargegrid.cli.firmware_cmd import firmware_app
from chargegrid.cli.main import app
from tests.unit.cli.fake_firmware import FakeFirmware, invoke

Service = tuple[FakeFirmware, str]
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def run(firmware: Service, tmp_path: Path, *args: str) -> Result:
    return invoke(firmware_app, firmware[1], tmp_path, *args)


def test_the_firmware_address_is_the_default_port_or_the_dev_stack_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CHARGEGRID_FIRMWARE_ADDRESS", raising=False)
    assert service_address("firmware") == "127.0.0.1:50056"
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_ADDRESS", "10.0.0.5:6000")
    assert service_address("firmware") == "10.0.0.5:6000"


def test_the_commands_are_registered_on_chargegrid() -> None:
    for group in (["firmware"], ["firmware", "campaigns"], ["logs"], ["security-events"]):
        result = CliRunner().invoke(app, [*group, "--help"])
        assert result.exit_code == 0, result.output


def test_a_signed_image_is_added_with_its_certificate_and_a_raw_signature_file(
    firmware: Service, tmp_path: Path
) -> None:
    fake, _ = firmware
    (tmp_path / "cert.pem").write_text(PEM)
    (tmp_path / "fw.sig").write_bytes(b"\x00\xffsig")
    result = run(
        firmware,
        tmp_path,
        "images",
        "add",
        "--version",
        "2.1.0",
        "--location",
        "https://fw.example/acme-2.1.0.bin",
        "--vendor",
        "ACME",
        "--model",
        "AC22",
        "--signing-certificate",
        str(tmp_path / "cert.pem"),
        "--signature-file",
        str(tmp_path / "fw.sig"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    image = fake.requests[0].image
    assert (image.version, image.vendor, image.model) == ("2.1.0", "ACME", "AC22")
    assert image.signing_certificate == PEM
    assert base64.b64decode(image.signature) == b"\x00\xffsig"
    assert json.loads(result.output)["id"] == "IMG-NEW"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--signature", "c2ln", "--signature-file", "x.sig"], "not both"),
        (["--signature", "not base64!"], "not base64"),
        (["--signature", "c2ln"], "needs both"),
    ],
)
def test_a_bad_signature_is_refused_before_any_call(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    result = invoke(
        firmware_app,
        "127.0.0.1:1",
        tmp_path,
        *["images", "add", "--version", "1", "--location", "https://x", *extra],
    )
    assert result.exit_code == 2
    assert message in result.output


def test_images_list_reads_every_page_with_the_filters(firmware: Service, tmp_path: Path) -> None:
    fake, _ = firmware
    result = run(firmware, tmp_path, "images", "list", "--vendor", "ACME", "--json")
    assert result.exit_code == 0, result.output
    assert [i["id"] for i in json.loads(result.output)] == ["IMG-1", "IMG-2", "IMG-3"]
    assert {r.vendor for r in fake.requests} == {"ACME"}
    table = run(firmware, tmp_path, "images", "list")
    assert "3 image(s)" in table.output


def test_update_sends_the_image_and_prints_state_detail_and_request_id(
    firmware: Service, tmp_path: Path
) -> None:
    fake, _ = firmware
    result = run(
        firmware,
        tmp_path,
        "update",
        "--station",
        "CP-1",
        "--image",
        "IMG-1",
        "--install-at",
        "2026-11-02T02:00",
        "--force",
    )
    assert result.exit_code == 0, result.output
    request = fake.requests[0]
    assert (request.station_id, request.image_id, request.force) == ("CP-1", "IMG-1", True)
    assert request.install_at.ToJsonString() == "2026-11-02T02:00:00Z"
    for shown in ("in progress", "Downloading", "request id", "7"):
        assert shown in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--url", "https://x", "--image", "IMG-1"], "either --url or --image"),
        ([], "either --url or --image"),
        (["--url", "https://x", "--install-at", "tomorrow"], "ISO 8601"),
    ],
)
def test_update_usage_errors_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    result = invoke(firmware_app, "127.0.0.1:1", tmp_path, "update", "--station", "CP-1", *extra)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("station", "code", "state"), [("CP-1", 0, "SUCCEEDED"), ("CP-BAD", 1, "FAILED")]
)
def test_update_wait_polls_until_the_update_ends(
    firmware: Service, tmp_path: Path, station: str, code: int, state: str
) -> None:
    result = run(
        firmware,
        tmp_path,
        *["update", "--station", station, "--url", "https://x", "--wait"],
        *["--poll-interval", "0.01", "--json"],
    )
    assert result.exit_code == code, result.output
    assert json.loads(result.output)["state"] == f"UPDATE_STATE_{state}"
    assert firmware[0].polls == 2


def test_an_unknown_image_or_station_is_one_clear_line(firmware: Service, tmp_path: Path) -> None:
    result = run(firmware, tmp_path, "update", "--station", "CP-1", "--image", "IMG-404")
    assert result.exit_code == 1
    assert "NOT_FOUND: image IMG-404 not found" in result.output
    status = run(firmware, tmp_path, "status", "--station", "CP-9")
    assert status.exit_code == 1
    assert "NOT_FOUND: station CP-9 has no firmware update" in status.output
    assert "Traceback" not in status.output


def test_status_shows_the_latest_update(firmware: Service, tmp_path: Path) -> None:
    result = run(firmware, tmp_path, "status", "--station", "CP-1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["detail"] == "Installing"


def test_windows_are_hh_mm_pairs() -> None:
    assert parse_window("22:00-05:30") == ("22:00", "05:30")
    assert parse_window(None) == ("", "")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--station", "CP-1", "--window", "1am-5am"], "HH:MM-HH:MM"),
        (["--station", "CP-1", "--window", "24:00-05:00"], "HH:MM-HH:MM"),
        (["--station", "CP-1", "--window", "03:00-03:00"], "empty"),
        (["--station", "CP-1", "--site", "S1"], "not both"),
        ([], "give --station"),
        (["--station", "CP-1", "--install-at", "2026-13-45"], "ISO 8601"),
        (["--station", "CP-1", "--start-at", "next tuesday"], "--start-at"),
        (["--station", "CP-1", "--max-in-flight", "0"], "--max-in-flight"),
    ],
)
def test_campaign_usage_errors_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    result = invoke(
        firmware_app, "127.0.0.1:1", tmp_path, "campaigns", "create", "--image", "IMG-1", *extra
    )
    assert result.exit_code == 2
    assert message in result.output


def test_campaign_create_sends_every_setting(firmware: Service, tmp_path: Path) -> None:
    fake, _ = firmware
    result = run(
        firmware,
        tmp_path,
        *["campaigns", "create", "--image", "IMG-1", "--station", "CP-1", "--station", "CP-2"],
        *["--station", "CP-1", "--max-in-flight", "5", "--window", "01:00-05:00"],
        *["--retries", "2", "--retry-interval", "600", "--station-timeout", "3600"],
        *["--install-at", "2026-11-02T02:00+01:00", "--force", "--id", "C-NIGHT", "--json"],
        *["--start-at", "2026-11-01T22:00"],
    )
    assert result.exit_code == 0, result.output
    campaign = fake.requests[0].campaign
    assert list(campaign.target.station_ids) == ["CP-1", "CP-2"]
    assert (campaign.id, campaign.max_in_flight, campaign.force) == ("C-NIGHT", 5, True)
    assert (campaign.window_start, campaign.window_end) == ("01:00", "05:00")
    assert (campaign.retries, campaign.retry_interval_s, campaign.station_timeout_s) == (
        2,
        600,
        3600,
    )
    assert campaign.install_at.ToJsonString() == "2026-11-02T01:00:00Z"
    assert campaign.starts_at.ToJsonString() == "2026-11-01T22:00:00Z"
    assert json.loads(result.output)["id"] == "C-NIGHT"


def test_a_campaign_may_target_a_selection(firmware: Service, tmp_path: Path) -> None:
    fake, _ = firmware
    result = run(
        firmware,
        tmp_path,
        *["campaigns", "create", "--image", "IMG-1", "--site", "S1", "--vendor", "ACME"],
        *["--model", "AC22", "--current-version", "1.0"],
    )
    assert result.exit_code == 0, result.output
    target = fake.requests[0].campaign.target
    assert (target.site_id, target.vendor, target.model, target.current_version) == (
        "S1",
        "ACME",
        "AC22",
        "1.0",
    )
    assert not target.station_ids


def test_show_prints_the_summary_and_each_station(firmware: Service, tmp_path: Path) -> None:
    result = run(firmware, tmp_path, "campaigns", "show", "C1")
    assert result.exit_code == 0, result.output
    for shown in ("campaign C1", "running", "CP-1", "CP-2", "queued", "Downloading", "attempts"):
        assert shown in result.output
    missing = run(firmware, tmp_path, "campaigns", "show", "C-404")
    assert missing.exit_code == 1
    assert "NOT_FOUND: campaign C-404 not found" in missing.output


def test_list_reads_every_page(firmware: Service, tmp_path: Path) -> None:
    result = run(firmware, tmp_path, "campaigns", "list", "--json")
    assert result.exit_code == 0, result.output
    assert [c["id"] for c in json.loads(result.output)] == ["C1", "C2", "C3"]


def test_watch_ends_with_the_results_and_exit_0_when_all_succeeded(
    firmware: Service, tmp_path: Path
) -> None:
    result = run(firmware, tmp_path, "campaigns", "watch", "C-OK")
    assert result.exit_code == 0, result.output
    assert "2/2" in result.output
    assert "succeeded 2" in result.output
    assert "2 station(s)" in result.output


def test_watch_exits_1_when_a_station_failed(firmware: Service, tmp_path: Path) -> None:
    result = run(firmware, tmp_path, "campaigns", "watch", "C-FAIL")
    assert result.exit_code == 1, result.output
    assert "failed 1" in result.output
    assert "InstallationFailed" in result.output
    assert "Traceback" not in result.output


def test_watch_json_prints_one_line_per_change_and_exits_1_when_aborted(
    firmware: Service, tmp_path: Path
) -> None:
    result = run(firmware, tmp_path, "campaigns", "watch", "C-ABORT", "--json")
    assert result.exit_code == 1, result.output
    states = [json.loads(line)["state"] for line in result.output.splitlines()]
    assert states == ["CAMPAIGN_STATE_RUNNING", "CAMPAIGN_STATE_ABORTED"]


def test_create_with_watch_follows_the_new_campaign(firmware: Service, tmp_path: Path) -> None:
    result = run(
        firmware,
        tmp_path,
        *["campaigns", "create", "--image", "IMG-1", "--station", "CP-1", "--id", "C-FAIL"],
        "--watch",
    )
    assert result.exit_code == 1, result.output
    assert "campaign C-FAIL" in result.output
    assert "InstallationFailed" in result.output


def test_watch_of_an_unknown_campaign_is_one_clear_line(firmware: Service, tmp_path: Path) -> None:
    result = run(firmware, tmp_path, "campaigns", "watch", "C-GONE")
    assert result.exit_code == 1
    assert "NOT_FOUND: campaign C-GONE not found" in result.output


@pytest.mark.parametrize(
    ("action", "state"),
    [("pause", "PAUSED"), ("resume", "RUNNING"), ("abort", "ABORTED")],
)
def test_pause_resume_abort(firmware: Service, tmp_path: Path, action: str, state: str) -> None:
    result = run(firmware, tmp_path, "campaigns", action, "C1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["state"] == f"CAMPAIGN_STATE_{state}"


def test_aborting_an_ended_campaign_says_why(firmware: Service, tmp_path: Path) -> None:
    result = run(firmware, tmp_path, "campaigns", "abort", "C-DONE")
    assert result.exit_code == 1
    assert "FAILED_PRECONDITION: campaign C-DONE is COMPLETED" in result.output


def test_update_state_labels_read_as_words() -> None:
    from chargegrid.cli.firmware_common import update_state_label

    assert update_state_label(pb.UPDATE_STATE_IN_PROGRESS) == "in progress"
