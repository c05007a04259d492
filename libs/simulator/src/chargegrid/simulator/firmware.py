"""Firmware updates: the status sequence, the reboot into the new version, and failures.

A CSMS firmware campaign has to cope with stations that fail to download, fail to install or
vanish halfway; `StationConfig.firmware_failure` picks which of those this station does.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from chargegrid.simulator.config import FirmwareFailure
from chargegrid.simulator.http_transfer import download
from chargegrid.simulator.model import BootReason

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station

_SUFFIXES = re.compile(r"(\.(bin|img|zip|tar|gz|tgz|fw|hex|swu))+$", re.IGNORECASE)


@dataclass(frozen=True)
class FirmwareRequest:
    """UpdateFirmware / SignedUpdateFirmware, version-neutral."""

    location: str
    retrieve_at: datetime
    request_id: int | None = None
    install_at: datetime | None = None
    signed: bool = False


def version_from_location(location: str) -> str:
    """The new firmware's version: the file name without its extensions (max 50 chars)."""
    name = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    version = _SUFFIXES.sub("", name) or "updated"
    return version[:50]


class FirmwareUpdater:
    """Runs one firmware update at a time and reports each step."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.status = "Idle"
        self.request: FirmwareRequest | None = None
        #: Every update the CSMS asked for, in order (a campaign must not repeat work).
        self.received: list[FirmwareRequest] = []
        self._task: asyncio.Task[None] | None = None
        self._report_installed_after_boot = False

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def begin(self, request: FirmwareRequest) -> None:
        """Start (or restart, cancelling the running one) an update."""
        if self._task is not None:
            self._task.cancel()
        self.request = request
        self.received.append(request)
        self._task = self.station.spawn(self._run(request))

    async def after_boot(self) -> None:
        """A station that went down mid-install reports the outcome once it is back."""
        if self._report_installed_after_boot:
            self._report_installed_after_boot = False
            await self._report("Installed")
            self.status = "Idle"

    async def _run(self, request: FirmwareRequest) -> None:
        station = self.station
        failure = station.config.firmware_failure
        await self._wait_until(request.retrieve_at, "DownloadScheduled")
        await self._report("Downloading")
        await self._step()
        if failure is FirmwareFailure.DOWNLOAD or not await self._download(request):
            await self._finish("DownloadFailed")
            return
        await self._report("Downloaded")
        await self._step()
        if request.install_at is not None:
            await self._wait_until(request.install_at, "InstallScheduled")
        while station.charging.active_sessions():
            await self._step()
        await self._report("Installing")
        await self._step()
        if failure is FirmwareFailure.INSTALL:
            await self._finish("InstallationFailed")
            return
        station.firmware_version = version_from_location(request.location)
        station.note(f"firmware {station.firmware_version} installed")
        if failure is FirmwareFailure.OFFLINE_DURING_INSTALL:
            self._report_installed_after_boot = True
            downtime = station.config.offline_during_install_s
            station.request_reboot(BootReason.FIRMWARE_UPDATE, downtime_s=downtime)
            return
        await self._report("Installed")
        await self._step()
        self.status = "Idle"
        station.request_reboot(BootReason.FIRMWARE_UPDATE)

    async def _download(self, request: FirmwareRequest) -> bool:
        config = self.station.config
        if not config.firmware_download:
            return True
        return await asyncio.to_thread(
            download, request.location, timeout_s=config.upload_timeout_s
        )

    async def _wait_until(self, moment: datetime, scheduled_status: str) -> None:
        delay = (moment - self.station.clock()).total_seconds()
        if delay > 0:
            await self._report(scheduled_status)
            await asyncio.sleep(delay)

    async def _finish(self, status: str) -> None:
        self.station.note(f"firmware update failed: {status}")
        await self._report(status)
        self.status = "Idle"

    async def _step(self) -> None:
        await asyncio.sleep(self.station.config.firmware_step_delay_s)

    async def _report(self, status: str) -> None:
        self.status = status
        request = self.request
        request_id = request.request_id if request else None
        signed = request.signed if request else False
        await self.station.outbox.send(
            lambda link: link.firmware_status(status, request_id, signed), durable=True
        )
