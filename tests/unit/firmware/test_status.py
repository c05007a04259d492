"""The update state machine: progress, failures, and success only after a matching boot."""

from __future__ import annotations

import pytest

from chargegrid.firmware.status import (
    Progress,
    State,
    on_boot,
    on_firmware_status,
)

SENT = Progress(State.IN_PROGRESS, "Accepted")


def run(progress: Progress, steps: list[tuple[str, str]], expected: str = "2.0") -> Progress:
    for kind, value in steps:
        if kind == "status":
            progress = on_firmware_status(progress, value, expected)
        else:
            progress = on_boot(progress, value, expected)
    return progress


def test_progress_statuses_keep_it_in_progress_with_the_last_status() -> None:
    result = run(SENT, [("status", "Downloading"), ("status", "Downloaded")])
    assert result == Progress(State.IN_PROGRESS, "Downloaded")


def test_installed_then_a_boot_with_the_image_version_succeeds() -> None:
    result = run(SENT, [("status", "Installing"), ("status", "Installed"), ("boot", "2.0")])
    assert result.state is State.SUCCEEDED


def test_installed_then_a_boot_with_another_version_fails() -> None:
    result = run(SENT, [("status", "Installed"), ("boot", "1.9")])
    assert result == Progress(State.FAILED, "version mismatch", "1.9")


def test_installed_alone_is_not_success() -> None:
    assert run(SENT, [("status", "Installed")]) == Progress(State.IN_PROGRESS, "Installed")


def test_2x_reboot_before_installed_is_judged_when_installed_arrives() -> None:
    good = run(SENT, [("status", "InstallRebooting"), ("boot", "2.0"), ("status", "Installed")])
    assert good.state is State.SUCCEEDED
    bad = run(SENT, [("status", "InstallRebooting"), ("boot", "1.0"), ("status", "Installed")])
    assert (bad.state, bad.detail) == (State.FAILED, "version mismatch")


def test_16_going_away_while_installing_is_judged_when_installed_arrives() -> None:
    good = run(SENT, [("status", "Installing"), ("boot", "2.0"), ("status", "Installed")])
    assert good.state is State.SUCCEEDED
    bad = run(SENT, [("status", "Installing"), ("boot", "1.0"), ("status", "Installed")])
    assert (bad.state, bad.detail) == (State.FAILED, "version mismatch")


def test_a_boot_before_installing_changes_nothing() -> None:
    assert run(SENT, [("status", "Downloading"), ("boot", "1.0")]).detail == "Downloading"


def test_any_version_succeeds_when_none_is_expected() -> None:
    assert run(SENT, [("status", "Installed"), ("boot", "x")], expected="").state is State.SUCCEEDED


@pytest.mark.parametrize(
    "status",
    ["DownloadFailed", "InstallationFailed", "InvalidSignature", "InstallVerificationFailed"],
)
def test_failure_statuses_fail_with_the_status_as_detail(status: str) -> None:
    assert run(SENT, [("status", "Downloading"), ("status", status)]) == Progress(
        State.FAILED, status
    )


def test_terminal_states_do_not_move() -> None:
    done = Progress(State.SUCCEEDED, "Installed")
    assert run(done, [("status", "DownloadFailed"), ("boot", "0")]) == done
    failed = Progress(State.FAILED, "offline")
    assert run(failed, [("status", "Installed"), ("boot", "2.0")]) == failed


def test_idle_is_ignored() -> None:
    assert run(SENT, [("status", "Idle")]) == SENT
