"""OCPP 2.0.1 / 2.1 messages a station sends: the `Link` protocol spelled in 2.x.

2.x numbers transactions on the station side and reports their whole life as
TransactionEvent Started / Updated / Ended; connectors only report Available, Occupied,
Reserved, Unavailable or Faulted. Payloads are built from the version's own `call` module,
whose dataclasses share field names between 2.0.1 and 2.1.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection

from chargegrid.simulator.cards import group_of
from chargegrid.simulator.clock import iso
from chargegrid.simulator.link import BootResult, UploadReport
from chargegrid.simulator.link_base import LinkBase
from chargegrid.simulator.meter import MeterReading
from chargegrid.simulator.model import (
    BootReason,
    ChargingState,
    Connector,
    ConnectorStatus,
    Session,
    StopReason,
    TriggerKind,
)

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station

_CONNECTOR_STATUS = {
    ConnectorStatus.AVAILABLE: "Available",
    ConnectorStatus.RESERVED: "Reserved",
    ConnectorStatus.UNAVAILABLE: "Unavailable",
    ConnectorStatus.FAULTED: "Faulted",
}
STOPPED_REASONS_2X = {
    StopReason.LOCAL: "Local",
    StopReason.REMOTE: "Remote",
    StopReason.EV_FULL: "StoppedByEV",
    StopReason.EV_DISCONNECTED: "EVDisconnected",
    StopReason.DEAUTHORIZED: "DeAuthorized",
    StopReason.UNLOCK: "Other",
    StopReason.SOFT_RESET: "Reboot",
    StopReason.HARD_RESET: "ImmediateReset",
    StopReason.IMMEDIATE_RESET: "ImmediateReset",
    StopReason.REBOOT: "Reboot",
    StopReason.OTHER: "Other",
    StopReason.MASTER_PASS: "MasterPass",
}
_END_TRIGGERS = {
    StopReason.LOCAL: "StopAuthorized",
    StopReason.REMOTE: "RemoteStop",
    StopReason.EV_FULL: "EVDeparted",
    StopReason.EV_DISCONNECTED: "EVCommunicationLost",
    StopReason.DEAUTHORIZED: "Deauthorized",
    StopReason.UNLOCK: "UnlockCommand",
    StopReason.SOFT_RESET: "ResetCommand",
    StopReason.HARD_RESET: "ResetCommand",
    StopReason.IMMEDIATE_RESET: "ResetCommand",
    StopReason.REBOOT: "ResetCommand",
    StopReason.OTHER: "AbnormalCondition",
    StopReason.MASTER_PASS: "StopAuthorized",
}
_LOG_STATUSES = {"UploadFailed": "UploadFailure"}


class Outbound2x(LinkBase):
    """Station-initiated OCPP 2.x calls (the concrete class supplies `_call`, `_call_result`)."""

    _call: Any
    _call_result: Any

    def __init__(self, station: Station, connection: ClientConnection) -> None:
        super().__init__(station, connection)
        self._sent_status: dict[int, str] = {}

    async def boot(self, reason: BootReason, firmware_version: str) -> BootResult:
        config = self.station.config
        station = {
            "model": config.model,
            "vendor_name": config.vendor,
            "serial_number": config.serial_number,
            "firmware_version": firmware_version,
        }
        result = await self.request(
            self._call.BootNotification(charging_station=station, reason=reason.value)
        )
        return BootResult(status=str(result.status), interval_s=int(result.interval))

    async def heartbeat(self) -> None:
        await self.request(self._call.Heartbeat())

    def variable_changed(self, variable: Any, old: str, new: str) -> None:
        """A SetVariables changed a value (monitoring overrides this to raise events)."""

    async def status(self, connector: Connector, *, force: bool = False) -> None:
        status = _CONNECTOR_STATUS.get(connector.status, "Occupied")
        previous = self._sent_status.get(connector.connector_id)
        if not force and previous == status:
            return
        # recorded before sending: a newer status may be decided while this one is in flight
        self._sent_status[connector.connector_id] = status
        try:
            await self.request(
                self._call.StatusNotification(
                    timestamp=iso(self.station.clock()),
                    connector_status=status,
                    evse_id=connector.connector_id,
                    connector_id=1,
                )
            )
        except BaseException:
            if self._sent_status.get(connector.connector_id) == status:
                self._sent_status.pop(connector.connector_id)
            raise

    async def authorize(self, id_tag: str) -> str:
        return str((await self.authorize_token(id_tag, "ISO14443"))["status"])

    async def authorize_token(self, id_tag: str, token_type: str) -> dict[str, Any]:
        """The CSMS's idTokenInfo for a presented card (what the station shows is noted)."""
        result = await self.request(self._call.Authorize(id_token=_id_token(id_tag, token_type)))
        info: dict[str, Any] = result.id_token_info
        self.station.cards.learn(id_tag, info)
        return info

    async def transaction_started(self, session: Session, reading: MeterReading) -> str:
        remote = session.trigger is TriggerKind.REMOTE
        result = await self.request(
            self._call.TransactionEvent(
                event_type="Started",
                timestamp=iso(session.started_at or self.station.clock()),
                trigger_reason="RemoteStart" if remote else "Authorized",
                seq_no=session.next_seq_no(),
                transaction_info=self._info(session, remote_start_id=session.remote_start_id),
                id_token=_id_token(session.id_tag, session.id_token_type),
                evse={"id": session.connector_id, "connector_id": 1},
                reservation_id=session.reservation_id,
                meter_value=[self._meter_value(reading, "Transaction.Begin", None)],
            )
        )
        info = result.id_token_info
        if not info:
            return "Accepted"
        self.station.cards.learn(session.id_tag, info)
        session.group_id = group_of(info)
        return str(info["status"])

    async def transaction_updated(
        self, session: Session, reading: MeterReading, *, triggered: bool = False
    ) -> None:
        context = "Trigger" if triggered else "Sample.Periodic"
        await self._updated(
            session, reading, "Trigger" if triggered else "MeterValuePeriodic", context
        )

    async def charging_state_changed(self, session: Session, reading: MeterReading) -> None:
        await self._updated(session, reading, "ChargingStateChanged", "Sample.Periodic")

    async def _updated(
        self, session: Session, reading: MeterReading, trigger: str, context: str
    ) -> None:
        await self.request(
            self._call.TransactionEvent(
                event_type="Updated",
                timestamp=iso(self.station.clock()),
                trigger_reason=trigger,
                seq_no=session.next_seq_no(),
                transaction_info=self._info(session),
                meter_value=[self._meter_value(reading, context, None)],
            )
        )

    async def transaction_ended(self, session: Session, reading: MeterReading) -> None:
        reason = session.stop_reason or StopReason.LOCAL
        measurands = self.station.policy.ended_measurands
        await self.request(
            self._call.TransactionEvent(
                event_type="Ended",
                timestamp=iso(self.station.clock()),
                trigger_reason=_END_TRIGGERS[reason],
                seq_no=session.next_seq_no(),
                transaction_info=self._info(
                    session,
                    charging_state=ChargingState.EV_CONNECTED,
                    stopped_reason=STOPPED_REASONS_2X[reason],
                ),
                id_token=_stop_token(session, reason),
                meter_value=[self._meter_value(reading, "Transaction.End", measurands)],
            )
        )

    async def meter_values(self, connector: Connector, reading: MeterReading) -> None:
        await self.request(
            self._call.MeterValues(
                evse_id=connector.connector_id,
                meter_value=[self._meter_value(reading, "Trigger", None)],
            )
        )

    async def firmware_status(self, status: str, request_id: int | None, signed: bool) -> None:
        await self.request(
            self._call.FirmwareStatusNotification(status=status, request_id=request_id)
        )

    async def upload_status(self, report: UploadReport) -> None:
        status = _LOG_STATUSES.get(report.status, report.status)
        await self.request(
            self._call.LogStatusNotification(status=status, request_id=report.request_id)
        )

    async def security_event(self, kind: str, tech_info: str | None) -> None:
        await self.request(
            self._call.SecurityEventNotification(
                type=kind, timestamp=iso(self.station.clock()), tech_info=tech_info
            )
        )

    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> tuple[str, str | None]:
        result = await self.request(
            self._call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data)
        )
        return str(result.status), result.data

    async def notify_report(
        self, request_id: int, generated_at: datetime, pages: list[list[dict[str, Any]]]
    ) -> None:
        """NotifyReport, one page per message, `tbc` on all but the last."""
        for seq_no, page in enumerate(pages):
            await self.request(
                self._call.NotifyReport(
                    request_id=request_id,
                    generated_at=iso(generated_at),
                    seq_no=seq_no,
                    report_data=page or None,
                    tbc=seq_no < len(pages) - 1,
                )
            )

    def _info(
        self,
        session: Session,
        *,
        charging_state: ChargingState | None = None,
        stopped_reason: str | None = None,
        remote_start_id: int | None = None,
    ) -> dict[str, Any]:
        return {
            "transaction_id": session.transaction_id,
            "charging_state": (charging_state or session.charging_state).value,
            "time_spent_charging": round(session.charging_seconds),
            "stopped_reason": stopped_reason,
            "remote_start_id": remote_start_id,
        }

    def _meter_value(
        self, reading: MeterReading, context: str, measurands: tuple[str, ...] | None
    ) -> dict[str, Any]:
        chosen = measurands if measurands is not None else self.station.policy.measurands
        return {
            "timestamp": iso(self.station.clock()),
            "sampled_value": [
                {
                    "value": round(sample.value, 1),
                    "context": context,
                    "measurand": sample.measurand,
                    "phase": sample.phase,
                    "location": sample.location,
                    "unit_of_measure": {"unit": sample.unit},
                }
                for sample in reading.samples(chosen)
            ],
        }


def _id_token(id_tag: str, kind: str) -> dict[str, str]:
    return {"id_token": id_tag, "type": kind}


def _stop_token(session: Session, reason: StopReason) -> dict[str, str] | None:
    """The card that ended a transaction: the presented one (C09, C16), else its own when
    stopped locally; none for the other reasons."""
    if session.stop_id_tag is not None:
        return _id_token(session.stop_id_tag, session.stop_id_token_type)
    if reason is StopReason.LOCAL:
        return _id_token(session.id_tag, session.id_token_type)
    return None
