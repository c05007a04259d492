"""What a station may send, and be sent, while its boot is not Accepted.

The state is the status this connection's last BootNotification was answered with; before
any boot on a connection (a reconnect without reboot) nothing is held back, as before.

- Pending (OCPP 1.6 4.2, 2.0.1 B02): the CSMS may retrieve information and change
  configuration, so only provisioning calls go out (`PENDING_OUTBOUND`). The station should
  send nothing but BootNotification; anything else is answered with a CALLERROR SecurityError
  (2.0.1 B02/B03) unless the CSMS asked for it: a NotifyReport (2.x, answering
  GetBaseReport/GetReport) or the message a TriggerMessage requested.
- Rejected (1.6 4.2, 2.0.1 B03): the CSMS sends nothing at all, and answers the station's
  other messages the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chargegrid.gateway.protocol.versions import OcppVersion

ACCEPTED, PENDING, REJECTED = "Accepted", "Pending", "Rejected"
BOOT = "BootNotification"
TRIGGERS = frozenset({"TriggerMessage", "ExtendedTriggerMessage"})

#: Calls a Pending station may be sent: read and change its configuration and reports,
#: trigger messages, reset, and manage its security (profile upgrade, certificates).
PENDING_OUTBOUND: dict[OcppVersion, frozenset[str]] = {
    OcppVersion.V16: frozenset(
        {
            "GetConfiguration",
            "ChangeConfiguration",
            "TriggerMessage",
            "ExtendedTriggerMessage",
            "Reset",
            "CertificateSigned",
            "InstallCertificate",
            "GetInstalledCertificateIds",
            "DeleteCertificate",
        }
    ),
    OcppVersion.V201: frozenset(
        {
            "GetVariables",
            "SetVariables",
            "GetBaseReport",
            "GetReport",
            "TriggerMessage",
            "SetNetworkProfile",
            "Reset",
            "CertificateSigned",
            "InstallCertificate",
            "GetInstalledCertificateIds",
            "DeleteCertificate",
        }
    ),
}
PENDING_OUTBOUND[OcppVersion.V21] = PENDING_OUTBOUND[OcppVersion.V201]

#: What a Pending station may send besides BootNotification: replies to the CSMS's requests.
PENDING_INBOUND: dict[OcppVersion, frozenset[str]] = {
    OcppVersion.V16: frozenset(),
    OcppVersion.V201: frozenset({"NotifyReport"}),
    OcppVersion.V21: frozenset({"NotifyReport"}),
}


@dataclass(slots=True)
class RegistrationGate:
    version: OcppVersion
    status: str | None = None
    #: Messages a TriggerMessage asked for while not Accepted, each let through once.
    triggered: set[str] = field(default_factory=set)

    def booted(self, status: str) -> None:
        self.status = status
        self.triggered.clear()

    def admits(self, action: str) -> bool:
        """May the station's CALL of `action` be processed now?"""
        if self.status in (None, ACCEPTED) or action == BOOT:
            return True
        if self.status == PENDING and action in PENDING_INBOUND[self.version]:
            return True
        if action in self.triggered:
            self.triggered.discard(action)
            return True
        return False

    def may_send(self, action: str) -> bool:
        """May the CSMS send the station a CALL of `action` now?"""
        if self.status in (None, ACCEPTED):
            return True
        return self.status == PENDING and action in PENDING_OUTBOUND[self.version]

    def sending(self, action: str, payload: dict[str, object]) -> None:
        """Note what a TriggerMessage sent while not Accepted asks the station to send."""
        if self.status not in (None, ACCEPTED) and action in TRIGGERS:
            requested = payload.get("requestedMessage")
            if isinstance(requested, str):
                self.triggered.add(requested)
