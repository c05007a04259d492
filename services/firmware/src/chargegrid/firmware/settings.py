"""Firmware settings (CHARGEGRID_FIRMWARE_* > CHARGEGRID_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings

#: Security events an operator should look at now (logged at warning as alerts).
DEFAULT_CRITICAL_SECURITY_EVENTS = [
    "TamperDetectionActivated",
    "AttemptedReplayAttacks",
    "FailedToAuthenticateAtCsms",
    "CsmsFailedToAuthenticate",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
    "InvalidCsmsCertificate",
    "InvalidChargingStationCertificate",
    "SecurityLogWasCleared",
    "MaintenanceLoginFailed",
    "MemoryExhaustion",
]


class FirmwareSettings(ServiceSettings):
    service_name: ClassVar[str] = "firmware"

    #: HTTP endpoint for log uploads and downloads; 0 = any free port (tests).
    http_host: str = "0.0.0.0"
    http_port: int = 8070
    #: Base URL stations upload to and operators download from; unset =
    #: http://127.0.0.1:<http_port>.
    public_url: str | None = None
    #: The gateway's StationControl endpoint; unset = every station is "offline".
    gateway_address: str | None = None
    #: The stations service (campaign selections, site time zones); unset = selections are
    #: UNAVAILABLE and every window is read in UTC.
    stations_address: str | None = None
    #: The session service (is a station charging?); unset = no station is ever in a session.
    session_address: str | None = None
    #: How long a question to the stations or session service may take.
    lookup_timeout_s: float = 5.0
    #: How long a command to a station (through the gateway) may take.
    call_timeout_s: float = 35.0
    #: Retries a station makes for a download or an upload.
    transfer_retries: int = 3
    transfer_retry_interval_s: int = 60
    critical_security_events: list[str] = DEFAULT_CRITICAL_SECURITY_EVENTS
    consumer_group: str = "firmware"
    #: How often the campaign runner starts queued updates, retries and times out.
    campaign_tick_s: float = 2.0
    #: How long an update may stay silent before it fails "timed out": single-station updates
    #: and campaigns created with station_timeout_s 0.
    station_timeout_s: int = Field(default=3600, gt=0)

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)

    def base_url(self, bound_port: int) -> str:
        """`public_url`, else this host on the port the HTTP server actually bound."""
        return (self.public_url or f"http://127.0.0.1:{bound_port}").rstrip("/")
