"""The version-neutral state of a station: connectors, sessions and reservations.

Protocol adapters translate OCPP 1.6 and 2.x into these values and back, so the charging
logic never branches on the version.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chargegrid.simulator.ev import ElectricVehicle
from chargegrid.simulator.meter import EnergyMeter

RFID_CARD = "ISO14443"
"""The 2.x IdToken type of a tag presented at the station's card reader."""


class ConnectorStatus(StrEnum):
    """OCPP 1.6 connector states; 2.x folds the in-use ones into Occupied."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ChargingState(StrEnum):
    """OCPP 2.x transaction charging states (also drive 1.6 status)."""

    EV_CONNECTED = "EVConnected"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    IDLE = "Idle"


class StopReason(StrEnum):
    """Why a transaction ended, before translation into a version's reason code."""

    LOCAL = "Local"
    REMOTE = "Remote"
    EV_FULL = "EVFull"
    EV_DISCONNECTED = "EVDisconnected"
    DEAUTHORIZED = "DeAuthorized"
    UNLOCK = "UnlockCommand"
    SOFT_RESET = "SoftReset"
    HARD_RESET = "HardReset"
    IMMEDIATE_RESET = "ImmediateReset"
    REBOOT = "Reboot"
    OTHER = "Other"
    #: 2.x C16: a card of the AuthCtrlr.MasterPassGroupId group stopped it.
    MASTER_PASS = "MasterPass"  # noqa: S105 (a stop reason, not a password)


class BootReason(StrEnum):
    """Why the station (re)booted; 2.x reports it, 1.6 only behaves accordingly."""

    POWER_UP = "PowerUp"
    REMOTE_RESET = "RemoteReset"
    FIRMWARE_UPDATE = "FirmwareUpdate"
    TRIGGERED = "Triggered"


class TriggerKind(StrEnum):
    """What started or stopped a transaction, for 2.x trigger reasons."""

    LOCAL = "Local"
    REMOTE = "Remote"


@dataclass
class Reservation:
    reservation_id: int
    connector_id: int
    id_tag: str
    expires_at: datetime


@dataclass
class Session:
    """One plug-in: the car, who authorised it and the transaction it became."""

    connector_id: int
    id_tag: str
    ev: ElectricVehicle
    meter: EnergyMeter
    trigger: TriggerKind = TriggerKind.LOCAL
    id_token_type: str = RFID_CARD
    remote_start_id: int | None = None
    reservation_id: int | None = None
    transaction_id: str | None = None
    started_at: datetime | None = None
    meter_start_wh: float = 0.0
    meter_stop_wh: float | None = None
    power_w: float = 0.0
    charging_state: ChargingState = ChargingState.EV_CONNECTED
    charging_seconds: float = 0.0
    last_settled: datetime | None = None
    seq_no: int = 0
    stop_reason: StopReason | None = None
    stop_trigger: TriggerKind = TriggerKind.LOCAL
    #: The card presented to stop it when not the one that started it (2.x C09, C16).
    stop_id_tag: str | None = None
    stop_id_token_type: str = RFID_CARD
    #: The starting card's group, as the CSMS answered it (2.x idTokenInfo.groupIdToken).
    group_id: str = ""
    authorized: bool = False
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    transaction_started: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set once the CSMS acknowledged the StopTransaction / TransactionEvent Ended (the outbox
    #: gives up after its attempts; then `finished` is set without it).
    transaction_ended: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def request_stop(
        self, reason: StopReason = StopReason.LOCAL, trigger: TriggerKind = TriggerKind.LOCAL
    ) -> None:
        """Ask the session to end; the first reason given is the one reported."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_trigger = trigger
        self.stop_requested.set()

    def next_seq_no(self) -> int:
        """2.x numbers every TransactionEvent of a transaction from zero."""
        current = self.seq_no
        self.seq_no += 1
        return current

    @property
    def energy_wh(self) -> float:
        """Energy delivered so far (or in total, once stopped)."""
        end = self.meter_stop_wh if self.meter_stop_wh is not None else self.meter.register_wh
        return end - self.meter_start_wh


@dataclass
class Connector:
    """A socket (1.6 connector, 2.x EVSE with one connector) and its meter."""

    connector_id: int
    meter: EnergyMeter = field(default_factory=EnergyMeter)
    status: ConnectorStatus = ConnectorStatus.AVAILABLE
    operative: bool = True
    scheduled_operative: bool | None = None
    session: Session | None = None
    reservation: Reservation | None = None

    @property
    def idle_status(self) -> ConnectorStatus:
        """The status to show when no car is plugged in."""
        if not self.operative:
            return ConnectorStatus.UNAVAILABLE
        if self.reservation is not None:
            return ConnectorStatus.RESERVED
        return ConnectorStatus.AVAILABLE
