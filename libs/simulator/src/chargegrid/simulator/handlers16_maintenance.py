"""OCPP 1.6 firmware and diagnostics calls, including the security extension's signed variants.

The replies go out at once; the update or upload then runs in the background and reports
its progress through status notifications.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from chargegrid.simulator.clock import parse_iso
from chargegrid.simulator.firmware import FirmwareRequest
from chargegrid.simulator.messages16 import Outbound16
from chargegrid.simulator.routing import on
from chargegrid.simulator.uploads import LogKind, UploadRequest


def _time(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


class Maintenance16(Outbound16):
    """UpdateFirmware, SignedUpdateFirmware, GetDiagnostics, GetLog."""

    @on(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        request = FirmwareRequest(location=location, retrieve_at=parse_iso(retrieve_date))
        self.after_reply(partial(self.station.firmware.begin, request))
        return call_result.UpdateFirmware()

    @on(Action.signed_update_firmware)
    def on_signed_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        status = "AcceptedCanceled" if self.station.firmware.busy else "Accepted"
        request = FirmwareRequest(
            location=firmware["location"],
            retrieve_at=parse_iso(firmware["retrieve_date_time"]),
            request_id=request_id,
            install_at=_time(firmware.get("install_date_time")),
            signed=True,
        )
        self.after_reply(partial(self.station.firmware.begin, request))
        return call_result.SignedUpdateFirmware(status=status)

    @on(Action.get_diagnostics)
    def on_get_diagnostics(
        self, location: str, start_time: str | None = None, stop_time: str | None = None, **_: Any
    ) -> Any:
        request = UploadRequest(
            location, LogKind.DIAGNOSTICS, oldest=_time(start_time), latest=_time(stop_time)
        )
        file_name = self.station.uploads.file_name(request)
        self.after_reply(partial(self.station.uploads.begin, request, file_name))
        return call_result.GetDiagnostics(file_name=file_name)

    @on(Action.get_log)
    def on_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> Any:
        uploads = self.station.uploads
        status = "AcceptedCanceled" if uploads.busy else "Accepted"
        request = UploadRequest(
            log["remote_location"],
            LogKind(log_type),
            request_id,
            oldest=_time(log.get("oldest_timestamp")),
            latest=_time(log.get("latest_timestamp")),
        )
        file_name = uploads.file_name(request)
        self.after_reply(partial(uploads.begin, request, file_name))
        return call_result.GetLog(status=status, filename=file_name)
