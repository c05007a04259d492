"""Realistic payloads of every station-initiated 2.0.1 action (valid for 2.1 too)."""

from __future__ import annotations

from typing import Any

T = "2026-11-25T10:00:00Z"
TOKEN = {"idToken": "TAG-2X", "type": "ISO14443"}
EVSE = {"id": 1, "connectorId": 1}


def energy(value_kwh: float) -> dict[str, Any]:
    return {
        "timestamp": T,
        "sampledValue": [
            {
                "value": value_kwh,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "kWh", "multiplier": 0},
            },
            {
                "value": 7.2,
                "measurand": "Power.Active.Import",
                "unitOfMeasure": {"unit": "W", "multiplier": 3},
            },
        ],
    }


PAYLOADS: dict[str, dict[str, Any]] = {
    "Authorize": {"idToken": TOKEN},
    "BootNotification": {
        "reason": "PowerUp",
        "chargingStation": {
            "model": "X2",
            "vendorName": "ACME",
            "serialNumber": "S-1",
            "firmwareVersion": "2.0",
            "modem": {"iccid": "8931", "imsi": "2620"},
        },
    },
    "ClearedChargingLimit": {"chargingLimitSource": "EMS", "evseId": 1},
    "DataTransfer": {"vendorId": "ACME", "messageId": "diag", "data": "hello"},
    "FirmwareStatusNotification": {"status": "Downloading", "requestId": 4},
    "Get15118EVCertificate": {
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "AAAA",
    },
    "GetCertificateStatus": {
        "ocspRequestData": {
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "a1",
            "issuerKeyHash": "b2",
            "serialNumber": "01",
            "responderURL": "http://ocsp.example",
        }
    },
    "Heartbeat": {},
    "LogStatusNotification": {"status": "Uploaded", "requestId": 7},
    "MeterValues": {"evseId": 1, "meterValue": [energy(1.25)]},
    "NotifyChargingLimit": {"chargingLimit": {"chargingLimitSource": "EMS"}, "evseId": 1},
    "NotifyCustomerInformation": {"data": "none", "seqNo": 0, "generatedAt": T, "requestId": 1},
    "NotifyDisplayMessages": {"requestId": 2},
    "NotifyEVChargingNeeds": {
        "evseId": 1,
        "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase"},
    },
    "NotifyEVChargingSchedule": {
        "timeBase": T,
        "evseId": 1,
        "chargingSchedule": {
            "id": 1,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
        },
    },
    "NotifyEvent": {
        "generatedAt": T,
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": T,
                "trigger": "Alerting",
                "actualValue": "1",
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector"},
                "variable": {"name": "Problem"},
            }
        ],
    },
    "NotifyMonitoringReport": {"requestId": 3, "seqNo": 0, "generatedAt": T},
    "NotifyReport": {
        "requestId": 5,
        "seqNo": 0,
        "generatedAt": T,
        "tbc": False,
        "reportData": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [{"value": "300"}],
            }
        ],
    },
    "PublishFirmwareStatusNotification": {
        "status": "Published",
        "location": ["http://a/fw"],
        "requestId": 8,
    },
    "ReportChargingProfiles": {
        "requestId": 6,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [
            {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "startSchedule": T,
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                    }
                ],
            }
        ],
    },
    "ReservationStatusUpdate": {"reservationId": 9, "reservationUpdateStatus": "Expired"},
    "SecurityEventNotification": {"type": "FirmwareUpdated", "timestamp": T},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "StatusNotification": {
        "timestamp": T,
        "connectorStatus": "Occupied",
        "evseId": 1,
        "connectorId": 1,
    },
    "TransactionEvent": {
        "eventType": "Updated",
        "timestamp": T,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 1,
        "transactionInfo": {"transactionId": "tx-all"},
        "evse": EVSE,
        "meterValue": [energy(2.0)],
    },
}

EXPECTED_EVENTS = {
    "BootNotification": "station.booted",
    "Heartbeat": "station.heartbeat",
    "StatusNotification": "station.status_changed",
    "MeterValues": "station.meter_values",
    "FirmwareStatusNotification": "station.firmware_status",
    "LogStatusNotification": "station.log_status",
    "SecurityEventNotification": "station.security_event",
    "NotifyReport": "station.report",
    "NotifyMonitoringReport": "station.report",
    "TransactionEvent": "transaction.updated",
}
