"""The OCPP 1.6 routing table: every action a charge point may send to a central system."""

from __future__ import annotations

from chargegrid.gateway import shared_actions
from chargegrid.gateway.ocpp16 import core, notifications, transactions
from chargegrid.gateway.routing import Routes

ROUTES: Routes = {
    "Authorize": core.authorize,
    "BootNotification": core.boot_notification,
    "DataTransfer": core.data_transfer,
    "DiagnosticsStatusNotification": notifications.diagnostics_status,
    "FirmwareStatusNotification": notifications.firmware_status,
    "Heartbeat": core.heartbeat,
    "MeterValues": transactions.meter_values,
    "StartTransaction": transactions.start_transaction,
    "StatusNotification": core.status_notification,
    "StopTransaction": transactions.stop_transaction,
    # Security extension (OCPP 1.6 Security Whitepaper edition 2)
    "LogStatusNotification": shared_actions.log_status,
    "SecurityEventNotification": shared_actions.security_event,
    "SignCertificate": notifications.sign_certificate,
    "SignedFirmwareStatusNotification": notifications.signed_firmware_status,
}
