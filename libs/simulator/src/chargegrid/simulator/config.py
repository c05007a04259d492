"""What a simulated station is: identity, electrical ratings, timings and failure modes.

One frozen value per station, so a fleet can stamp out many stations from a template with
`dataclasses.replace` and tests can shrink every delay to milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from chargegrid.simulator.ev import EVSpec


class OcppVersion(StrEnum):
    """The protocol versions a station can speak; values are the CLI spelling."""

    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol that announces this version."""
        return "ocpp" + self.value


class FirmwareFailure(StrEnum):
    """How a firmware update should go wrong, to exercise a CSMS's campaign handling."""

    NONE = "none"
    DOWNLOAD = "download"
    INSTALL = "install"
    OFFLINE_DURING_INSTALL = "offline-during-install"


@dataclass(frozen=True)
class StationConfig:
    """Identity, ratings and timings of one station (seconds are wall-clock seconds)."""

    station_id: str
    vendor: str = "ChargeGrid"
    model: str = "SimStation"
    serial_number: str | None = None
    firmware_version: str = "1.0.0"
    connectors: int = 1
    max_current_a: float = 32.0
    voltage_v: float = 230.0
    phases: int = 3
    meter_interval_s: float = 60.0
    time_scale: float = 1.0
    heartbeat_fallback_s: float = 300.0
    boot_retry_fallback_s: float = 30.0
    response_timeout_s: float = 30.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    reboot_delay_s: float = 2.0
    firmware_step_delay_s: float = 1.0
    firmware_failure: FirmwareFailure = FirmwareFailure.NONE
    firmware_download: bool = False
    offline_during_install_s: float = 5.0
    upload_method: str = "POST"
    upload_timeout_s: float = 30.0
    password: str | None = None
    #: organizationName of the station's CSRs (2.x SecurityCtrlr.OrganizationName, 1.6 CpoName).
    cpo_name: str = ""
    security_events: bool = True
    boot_on_reconnect: bool = False
    stop_sessions_on_shutdown: bool = True
    default_id_tag: str = "SIMTAG0001"
    #: A station that refuses smart charging: every SetChargingProfile is answered Rejected.
    reject_charging_profiles: bool = False
    #: A station with a flaky link: its connection drops this long after each registration
    #: (0 = never) and it stays away `drop_downtime_s` before reconnecting (without booting;
    #: its sessions keep charging under the profiles they had).
    drop_connection_after_s: float = 0.0
    drop_downtime_s: float = 10.0
    ev: EVSpec = field(default_factory=EVSpec)

    def __post_init__(self) -> None:
        if not self.station_id or len(self.station_id) > 48:
            raise ValueError("station_id must be 1 to 48 characters")
        if self.connectors < 1 or self.phases not in (1, 2, 3):
            raise ValueError("a station needs at least one connector and 1 to 3 phases")
        positive = (self.voltage_v, self.max_current_a, self.meter_interval_s, self.time_scale)
        if min(positive) <= 0:
            raise ValueError("voltage, current, meter interval and time scale must be positive")
        if self.drop_connection_after_s < 0 or self.drop_downtime_s < 0:
            raise ValueError("connection drop timings cannot be negative")
        if self.upload_method not in ("POST", "PUT"):
            raise ValueError("upload_method is POST or PUT")

    @property
    def connector_max_w(self) -> float:
        """The most a connector can deliver, from its current rating."""
        return self.max_current_a * self.voltage_v * self.phases
