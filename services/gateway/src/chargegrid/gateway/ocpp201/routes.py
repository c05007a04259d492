"""The OCPP 2.0.1 routing table: every action a charging station may send to a CSMS."""

from __future__ import annotations

from chargegrid.gateway import shared_actions
from chargegrid.gateway.ocpp201 import certificates, core, notifications, transactions
from chargegrid.gateway.ocpp201.notifications import kept, report
from chargegrid.gateway.routing import Routes

ROUTES: Routes = {
    "Authorize": core.authorize,
    "BootNotification": core.boot_notification,
    "ClearedChargingLimit": kept("ClearedChargingLimit"),
    "DataTransfer": core.data_transfer,
    "FirmwareStatusNotification": notifications.firmware_status,
    "Get15118EVCertificate": certificates.get_15118_ev_certificate,
    "GetCertificateStatus": certificates.get_certificate_status,
    "Heartbeat": core.heartbeat,
    "LogStatusNotification": shared_actions.log_status,
    "MeterValues": transactions.meter_values,
    "NotifyChargingLimit": kept("NotifyChargingLimit"),
    "NotifyCustomerInformation": kept("NotifyCustomerInformation"),
    "NotifyDisplayMessages": kept("NotifyDisplayMessages"),
    "NotifyEVChargingNeeds": notifications.ev_charging_needs,
    "NotifyEVChargingSchedule": notifications.ev_charging_schedule,
    "NotifyEvent": kept("NotifyEvent"),
    "NotifyMonitoringReport": report("NotifyMonitoringReport"),
    "NotifyReport": report("NotifyReport"),
    "PublishFirmwareStatusNotification": kept("PublishFirmwareStatusNotification"),
    "ReportChargingProfiles": kept("ReportChargingProfiles"),
    "ReservationStatusUpdate": kept("ReservationStatusUpdate"),
    "SecurityEventNotification": shared_actions.security_event,
    "SignCertificate": certificates.sign_certificate,
    "StatusNotification": core.status_notification,
    "TransactionEvent": transactions.transaction_event_2x,
}
