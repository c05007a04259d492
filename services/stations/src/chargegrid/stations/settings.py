"""Stations settings (CHARGEGRID_STATIONS_* > CHARGEGRID_*; defaults in the service README)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings

UnknownStationPolicy = Literal["accept", "pending", "reject"]


class StationsSettings(ServiceSettings):
    service_name: ClassVar[str] = "stations"

    #: What an unknown station is told at boot: "pending" lets an operator approve it.
    unknown_station_policy: UnknownStationPolicy = "pending"
    #: Heartbeat interval given to accepted stations that have none of their own.
    heartbeat_interval_s: int = 300
    #: Interval after which pending or rejected stations may boot again.
    pending_retry_interval_s: int = 60
    #: A station silent for heartbeat_interval_s * offline_grace_factor is marked offline.
    offline_grace_factor: float = 2.0
    offline_sweep_interval_s: float = 30.0
    #: The gateway's StationControl endpoint (CHARGEGRID_GATEWAY_ADDRESS); unset = commands
    #: to stations are recorded as "offline".
    gateway_address: str | None = None
    #: How long a command to a station (through the gateway) may take.
    call_timeout_s: float = 35.0
    #: Kafka consumer group of the registry's event consumer.
    consumer_group: str = "stations"
    #: The CSMS CA (ADR 017). Operator-provided: certificate and key (PEM, unencrypted key).
    #: Unset: a CA of its own, created on first start under ca_dir (key 0600).
    ca_cert_file: Path | None = None
    ca_key_file: Path | None = None
    #: Where the self-created CA lives; empty = var_dir/ca.
    ca_dir: Path | None = None
    #: Validity of a self-created CA.
    ca_validity_days: int = 3650
    #: A V2G CA (certificate and key) signs V2GCertificate CSRs; unset = those are Rejected.
    v2g_ca_cert_file: Path | None = None
    v2g_ca_key_file: Path | None = None
    #: Validity of a station certificate the CA issues (capped at the CA's own expiry).
    certificate_validity_days: int = 365
    #: Renewal (TriggerMessage SignChargingStationCertificate) this long before expiry.
    certificate_renew_before_days: int = 30
    certificate_renewal_check_interval_s: float = 3600.0
    #: The organizationName a CSR must carry (SecurityCtrlr.OrganizationName / CpoName);
    #: empty = not checked.
    certificate_organization: str = ""
    #: Pause between answering SignCertificate and sending CertificateSigned, so the station
    #: has its answer first; and how often a failed delivery is retried.
    certificate_delivery_delay_s: float = 0.5
    certificate_delivery_attempts: int = 3
    #: ISO 15118 contract certificates (M01/M02): the provider's HTTP hook; empty = Failed.
    contract_certificate_url: str = ""
    contract_certificate_timeout_s: float = 10.0
    #: GetCertificateStatus (M06): OCSP requests forwarded to the station's responder.
    ocsp_forwarding: bool = True
    ocsp_timeout_s: float = 5.0

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)

    @property
    def certificate_authority_dir(self) -> Path:
        return self.ca_dir or Path(self.var_dir) / "ca"

    @property
    def offline_after_s(self) -> float:
        return self.heartbeat_interval_s * self.offline_grace_factor
