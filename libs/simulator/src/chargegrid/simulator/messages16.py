"""OCPP 1.6 messages a station sends: the `Link` protocol spelled in 1.6.

1.6 numbers transactions on the CSMS side (StartTransaction returns the id), reports meter
values as strings and keeps firmware and diagnostics statuses in separate notifications.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.v16 import call

from chargegrid.simulator.clock import iso
from chargegrid.simulator.link import BootResult, UploadReport
from chargegrid.simulator.link_base import LinkBase
from chargegrid.simulator.meter import MeterReading, Sample
from chargegrid.simulator.model import BootReason, Connector, Session, StopReason

STOP_REASONS_16 = {
    StopReason.LOCAL: "Local",
    StopReason.REMOTE: "Remote",
    StopReason.EV_FULL: "EVDisconnected",
    StopReason.EV_DISCONNECTED: "EVDisconnected",
    StopReason.DEAUTHORIZED: "DeAuthorized",
    StopReason.UNLOCK: "UnlockCommand",
    StopReason.SOFT_RESET: "SoftReset",
    StopReason.HARD_RESET: "HardReset",
    StopReason.IMMEDIATE_RESET: "HardReset",
    StopReason.REBOOT: "Reboot",
    StopReason.OTHER: "Other",
    StopReason.MASTER_PASS: "Other",
}
_PLAIN_FIRMWARE_STATUSES = {
    "Downloaded",
    "DownloadFailed",
    "Downloading",
    "Idle",
    "InstallationFailed",
    "Installing",
    "Installed",
}
_LOG_STATUSES = {"UploadFailed": "UploadFailure"}


class Outbound16(LinkBase):
    """Station-initiated OCPP 1.6 calls."""

    async def boot(self, reason: BootReason, firmware_version: str) -> BootResult:
        config = self.station.config
        result = await self.request(
            call.BootNotification(
                charge_point_model=config.model,
                charge_point_vendor=config.vendor,
                charge_point_serial_number=config.serial_number,
                firmware_version=firmware_version,
            )
        )
        return BootResult(status=str(result.status), interval_s=int(result.interval))

    async def heartbeat(self) -> None:
        await self.request(call.Heartbeat())

    async def status(self, connector: Connector, *, force: bool = False) -> None:
        await self.request(
            call.StatusNotification(
                connector_id=connector.connector_id,
                error_code="NoError",
                status=connector.status.value,
                timestamp=iso(self.station.clock()),
            )
        )

    async def authorize(self, id_tag: str) -> str:
        return str((await self.authorize_token(id_tag, ""))["status"])

    async def authorize_token(self, id_tag: str, token_type: str) -> dict[str, Any]:
        """idTagInfo in the 2.x shape: parentIdTag is the group."""
        result = await self.request(call.Authorize(id_tag=id_tag))
        info = result.id_tag_info
        parent = info.get("parent_id_tag")
        answer = {
            "status": info["status"],
            "group_id_token": {"id_token": parent} if parent else None,
        }
        self.station.cards.learn(id_tag, answer)
        return answer

    async def transaction_started(self, session: Session, reading: MeterReading) -> str:
        started = session.started_at or self.station.clock()
        result = await self.request(
            call.StartTransaction(
                connector_id=session.connector_id,
                id_tag=session.id_tag,
                meter_start=round(reading.energy_wh),
                timestamp=iso(started),
                reservation_id=session.reservation_id,
            )
        )
        session.transaction_id = str(result.transaction_id)
        # 1.6 parentIdTag: a card with the same parent may stop it (see `cards`).
        session.group_id = str(result.id_tag_info.get("parent_id_tag") or "")
        return str(result.id_tag_info["status"])

    async def transaction_updated(
        self, session: Session, reading: MeterReading, *, triggered: bool = False
    ) -> None:
        context = "Trigger" if triggered else "Sample.Periodic"
        await self.request(
            call.MeterValues(
                connector_id=session.connector_id,
                transaction_id=_tx(session),
                meter_value=[self._meter_value(reading, context, self.station.policy.measurands)],
            )
        )

    async def charging_state_changed(self, session: Session, reading: MeterReading) -> None:
        """1.6 conveys charging states through StatusNotification alone."""

    async def transaction_ended(self, session: Session, reading: MeterReading) -> None:
        begin = MeterReading(session.meter_start_wh, 0.0, reading.voltage_v, reading.phases, None)
        measurands = self.station.policy.ended_measurands
        await self.request(
            call.StopTransaction(
                meter_stop=round(reading.energy_wh),
                timestamp=iso(self.station.clock()),
                transaction_id=_tx(session),
                reason=STOP_REASONS_16[session.stop_reason or StopReason.LOCAL],
                id_tag=session.stop_id_tag or session.id_tag,
                transaction_data=[
                    self._meter_value(begin, "Transaction.Begin", measurands, session.started_at),
                    self._meter_value(reading, "Transaction.End", measurands),
                ],
            )
        )

    async def meter_values(self, connector: Connector, reading: MeterReading) -> None:
        session = connector.session
        in_transaction = session is not None and session.transaction_started.is_set()
        await self.request(
            call.MeterValues(
                connector_id=connector.connector_id,
                transaction_id=_tx(session) if session and in_transaction else None,
                meter_value=[self._meter_value(reading, "Trigger", self.station.policy.measurands)],
            )
        )

    async def firmware_status(self, status: str, request_id: int | None, signed: bool) -> None:
        if signed:
            await self.request(
                call.SignedFirmwareStatusNotification(status=status, request_id=request_id)
            )
        elif status in _PLAIN_FIRMWARE_STATUSES:
            await self.request(call.FirmwareStatusNotification(status=status))

    async def upload_status(self, report: UploadReport) -> None:
        if report.diagnostics:
            await self.request(call.DiagnosticsStatusNotification(status=report.status))
            return
        status = _LOG_STATUSES.get(report.status, report.status)
        await self.request(call.LogStatusNotification(status=status, request_id=report.request_id))

    async def security_event(self, kind: str, tech_info: str | None) -> None:
        await self.request(
            call.SecurityEventNotification(
                type=kind, timestamp=iso(self.station.clock()), tech_info=tech_info
            )
        )

    async def sign_certificate(self, csr: str, kind: str | None) -> str:
        # 1.6 security whitepaper: one kind of certificate, no certificateType.
        result = await self.request(call.SignCertificate(csr=csr))
        return str(result.status)

    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> tuple[str, str | None]:
        result = await self.request(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )
        return str(result.status), result.data

    def _meter_value(
        self,
        reading: MeterReading,
        context: str,
        measurands: tuple[str, ...],
        at: datetime | None = None,
    ) -> dict[str, Any]:
        moment = at or self.station.clock()
        return {
            "timestamp": iso(moment),
            "sampled_value": [
                {
                    "value": _printed(sample),
                    "context": context,
                    "measurand": sample.measurand,
                    "unit": sample.unit,
                    "phase": sample.phase,
                    "location": sample.location,
                }
                for sample in reading.samples(measurands)
            ],
        }


def _printed(sample: Sample) -> str:
    """Energy in whole Wh, so samples agree with the integer meterStart / meterStop."""
    return f"{sample.value:.0f}" if sample.unit == "Wh" else f"{sample.value:.1f}"


def _tx(session: Session) -> int | None:
    return int(session.transaction_id) if session.transaction_id is not None else None
