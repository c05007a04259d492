"""TriggerMessage: send, on request, a message the station would otherwise send on its own.

Shared by 1.6 (TriggerMessage, ExtendedTriggerMessage) and 2.x, because what each trigger
sends is the same; only the names of the triggers and the reply words differ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chargegrid.simulator.model import Connector
    from chargegrid.simulator.station import Station

SUPPORTED = {
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "TransactionEvent",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
    "LogStatusNotification",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
}
#: Certificate triggers (2.x names; 1.6 ExtendedTriggerMessage SignChargePointCertificate
#: is the first) and the kind of certificate each asks the station to renew.
CERTIFICATE_TRIGGERS = {
    "SignChargingStationCertificate": "ChargingStationCertificate",
    "SignV2GCertificate": "V2GCertificate",
}


def connectors_for(station: Station, connector_id: int | None) -> list[Connector] | None:
    """The connectors a trigger is about (all when unspecified); None when unknown."""
    if connector_id is None or connector_id == 0:
        return list(station.connectors.values())
    connector = station.connectors.get(connector_id)
    return [connector] if connector else None


async def send_triggered(station: Station, message: str, connectors: list[Connector]) -> None:
    """Send the requested message now (its reply has already gone out)."""
    outbox = station.outbox
    if message == "BootNotification":
        await station.boot_on_trigger()
    elif message == "Heartbeat":
        await outbox.send(lambda link: link.heartbeat())
    elif message == "StatusNotification":
        for connector in connectors:
            await station.charging.announce(connector, force=True)
    elif message == "MeterValues":
        for connector in connectors:
            await _meter_values(station, connector)
    elif message == "TransactionEvent":
        for connector in connectors:
            await _transaction_event(station, connector)
    elif message == "FirmwareStatusNotification":
        firmware = station.firmware
        request = firmware.request
        request_id = request.request_id if request else None
        signed = request.signed if request else False
        await outbox.send(lambda link: link.firmware_status(firmware.status, request_id, signed))
    elif message in CERTIFICATE_TRIGGERS:
        await station.request_certificate(CERTIFICATE_TRIGGERS[message])
    elif message in ("DiagnosticsStatusNotification", "LogStatusNotification"):
        report = station.uploads.report(diagnostics=message == "DiagnosticsStatusNotification")
        await outbox.send(lambda link: link.upload_status(report))


async def _meter_values(station: Station, connector: Connector) -> None:
    reading = station.charging.reading(connector)
    await station.outbox.send(lambda link: link.meter_values(connector, reading))


async def _transaction_event(station: Station, connector: Connector) -> None:
    session = connector.session
    if session is None or not session.transaction_started.is_set():
        return
    reading = station.charging.reading(connector)
    await station.outbox.send(
        lambda link: link.transaction_updated(session, reading, triggered=True)
    )
