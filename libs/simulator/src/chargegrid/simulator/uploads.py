"""Diagnostics and log uploads: GetDiagnostics (1.6) and GetLog (1.6 security, 2.x).

The station writes its journal to a text file and really uploads it to the location the CSMS
named, reporting Uploading then Uploaded or UploadFailed, because a CSMS's log collection is
only tested when a file actually arrives.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from chargegrid.simulator.clock import iso
from chargegrid.simulator.http_transfer import upload
from chargegrid.simulator.link import UploadReport

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station


class LogKind(StrEnum):
    DIAGNOSTICS = "Diagnostics"
    DIAGNOSTICS_LOG = "DiagnosticsLog"
    SECURITY_LOG = "SecurityLog"


class UploadStatus(StrEnum):
    IDLE = "Idle"
    UPLOADING = "Uploading"
    UPLOADED = "Uploaded"
    FAILED = "UploadFailed"


@dataclass(frozen=True)
class UploadRequest:
    location: str
    kind: LogKind
    request_id: int | None = None
    oldest: datetime | None = None
    latest: datetime | None = None


class LogUploader:
    """At most one upload at a time; a new request cancels the running one."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.status = UploadStatus.IDLE
        self.request: UploadRequest | None = None
        #: What each successful upload carried, by file name (tests compare checksums).
        self.uploaded: dict[str, bytes] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def file_name(self, request: UploadRequest) -> str:
        stamp = self.station.clock().strftime("%Y%m%dT%H%M%SZ")
        safe_id = "".join(
            ch if ch.isalnum() or ch in "-_" else "_" for ch in self.station.station_id
        )
        return f"{safe_id}-{request.kind.value}-{stamp}.log"

    def begin(self, request: UploadRequest, file_name: str) -> None:
        if self._task is not None:
            self._task.cancel()
        self.request = request
        self._task = self.station.spawn(self._run(request, file_name))

    def render(self, request: UploadRequest) -> bytes:
        """The journal lines inside the requested time window, oldest first."""
        station = self.station
        lines = [
            f"# {request.kind.value} of {station.station_id}",
            f"# vendor={station.config.vendor} model={station.config.model}",
            f"# firmware={station.firmware_version} ocpp={station.version.value}",
        ]
        for moment, text in station.journal:
            if request.oldest and moment < request.oldest:
                continue
            if request.latest and moment > request.latest:
                continue
            lines.append(f"{iso(moment)} {text}")
        return ("\n".join(lines) + "\n").encode()

    async def _run(self, request: UploadRequest, file_name: str) -> None:
        config = self.station.config
        await self._report(UploadStatus.UPLOADING, request)
        body = self.render(request)
        ok = await asyncio.to_thread(
            upload,
            request.location,
            file_name,
            body,
            method=config.upload_method,
            timeout_s=config.upload_timeout_s,
        )
        self.station.note(f"upload of {file_name}: {'done' if ok else 'failed'}")
        if ok:
            self.uploaded[file_name] = body
        await self._report(UploadStatus.UPLOADED if ok else UploadStatus.FAILED, request)
        self.status = UploadStatus.IDLE

    async def _report(self, status: UploadStatus, request: UploadRequest) -> None:
        self.status = status
        report = self.report()
        await self.station.outbox.send(lambda link: link.upload_status(report), durable=True)

    def report(self, diagnostics: bool | None = None) -> UploadReport:
        """Where the current (or last) upload stands, for a notification or a trigger."""
        request = self.request
        if diagnostics is None:
            diagnostics = request is None or request.kind is LogKind.DIAGNOSTICS
        return UploadReport(
            status=self.status.value,
            request_id=request.request_id if request else None,
            diagnostics=diagnostics,
        )
