"""OCPP 2.x firmware and log calls: UpdateFirmware and GetLog.

The replies go out at once; the update or upload then runs in the background and reports
its progress with FirmwareStatusNotification / LogStatusNotification and the request id.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from chargegrid.simulator.clock import parse_iso
from chargegrid.simulator.firmware import FirmwareRequest
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.routing import on
from chargegrid.simulator.uploads import LogKind, UploadRequest


def _time(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


class Maintenance2x(Outbound2x):
    """UpdateFirmware, GetLog."""

    @on("UpdateFirmware")
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        updater = self.station.firmware
        status = "AcceptedCanceled" if updater.busy else "Accepted"
        request = FirmwareRequest(
            location=firmware["location"],
            retrieve_at=parse_iso(firmware["retrieve_date_time"]),
            request_id=request_id,
            install_at=_time(firmware.get("install_date_time")),
        )
        self.after_reply(partial(updater.begin, request))
        return self._call_result.UpdateFirmware(status=status)

    @on("GetLog")
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
        return self._call_result.GetLog(status=status, filename=file_name)
