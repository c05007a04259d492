"""The state machine of one station's update, pure: no database, no clock.

The station reports progress with FirmwareStatusNotification. "Installed" is not success
yet: the update succeeded only when the next boot reports the image's version. Many
stations reboot while installing (2.x says "InstallRebooting"; 1.6 stations just go away
while "Installing") and report "Installed" after that boot, so a boot seen while installing
is remembered and judged when "Installed" arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


TERMINAL = frozenset({State.SUCCEEDED, State.FAILED, State.SKIPPED})

#: Statuses after which the station will not install this firmware.
FAILURE_STATUSES = frozenset(
    {
        "DownloadFailed",
        "InstallationFailed",
        "InvalidSignature",
        "InstallVerificationFailed",
        "SignatureVerificationFailed",
        "InvalidCertificate",
        "RevokedCertificate",
    }
)
INSTALLED = "Installed"
REBOOTING = "InstallRebooting"
#: Statuses during which a boot is the install's own reboot.
INSTALLING = frozenset({"Installing", REBOOTING})
VERSION_MISMATCH = "version mismatch"


@dataclass(frozen=True)
class Progress:
    state: State
    detail: str = ""
    #: The version a boot reported while the station was installing.
    booted_version: str | None = None


def _judge(expected_version: str, booted_version: str) -> Progress:
    if not expected_version or booted_version == expected_version:
        return Progress(State.SUCCEEDED, INSTALLED, booted_version)
    return Progress(State.FAILED, VERSION_MISMATCH, booted_version)


def on_firmware_status(progress: Progress, status: str, expected_version: str) -> Progress:
    """The update after the station reported `status` for it."""
    if progress.state in TERMINAL or status == "Idle":
        return progress
    if status in FAILURE_STATUSES:
        return Progress(State.FAILED, status, progress.booted_version)
    if status == INSTALLED and progress.booted_version is not None:
        return _judge(expected_version, progress.booted_version)
    return replace(progress, state=State.IN_PROGRESS, detail=status)


def on_boot(progress: Progress, firmware_version: str, expected_version: str) -> Progress:
    """The update after the station booted reporting `firmware_version`."""
    if progress.state in TERMINAL:
        return progress
    if progress.detail == INSTALLED:
        return _judge(expected_version, firmware_version)
    if progress.detail in INSTALLING:
        return replace(progress, booted_version=firmware_version)
    return progress
