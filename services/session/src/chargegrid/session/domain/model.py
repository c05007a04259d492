"""Version-neutral transaction facts and the state of one session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ACTIVE = "active"
COMPLETED = "completed"
INTERRUPTED = "interrupted"
STATUSES = (ACTIVE, COMPLETED, INTERRUPTED)


@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime
    measurand: str
    value: float
    phase: str = ""
    unit: str = ""
    context: str = ""
    location: str = ""


@dataclass(frozen=True)
class Started:
    transaction_id: str
    at: datetime
    evse_id: int = 0
    connector_id: int = 0
    id_token: str = ""
    id_token_type: str = ""
    meter_start_wh: float | None = None
    offline: bool = False
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True)
class Updated:
    transaction_id: str
    at: datetime
    evse_id: int = 0
    connector_id: int = 0
    charging_state: str = ""
    id_token: str = ""
    id_token_type: str = ""
    offline: bool = False
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True)
class Ended:
    transaction_id: str
    at: datetime
    evse_id: int = 0
    connector_id: int = 0
    meter_stop_wh: float | None = None
    stop_reason: str = ""
    id_token: str = ""
    id_token_type: str = ""
    offline: bool = False
    samples: tuple[Sample, ...] = ()


TransactionFact = Started | Updated | Ended


@dataclass(frozen=True)
class SeqGap:
    """2.x: the gateway saw a TransactionEvent skip seqNos on one connection (E12): the
    events `first_missing` .. `received - 1` of the transaction never arrived there."""

    transaction_id: str
    at: datetime
    first_missing: int
    received: int

    @property
    def missing(self) -> int:
        return max(0, self.received - self.first_missing)


@dataclass(frozen=True)
class Rebooted:
    """The station booted at `at`: whatever it was charging before is over (1.6), unless
    the station resumes its transactions after a boot and reports them (2.x)."""

    station_id: str
    at: datetime
    resumes_transactions: bool = False


@dataclass(frozen=True)
class OutletFreed:
    """The station said nothing charges on this EVSE / connector (Available, Faulted)."""

    station_id: str
    at: datetime
    evse_id: int = 0
    connector_id: int = 0
    status: str = "Available"


@dataclass(frozen=True)
class EndSession:
    """Command: the operator declares a session over (the station lost it, or never stops)."""

    session_id: str
    at: datetime


@dataclass(frozen=True)
class TransactionStatusReported:
    """What a 2.x station answered GetTransactionStatus about one transaction, asked after
    its boot at `booted_at`: still running there, and whether messages about it are queued."""

    session_id: str
    booted_at: datetime
    ongoing: bool
    messages_in_queue: bool


def session_id_of(station_id: str, transaction_id: str) -> str:
    return f"{station_id}:{transaction_id}"


@dataclass
class SessionState:
    """A session and the bookkeeping its rules need; mirrors one `sessions` row."""

    id: str
    station_id: str
    transaction_id: str
    started_at: datetime
    updated_at: datetime
    site_id: str = ""
    evse_id: int = 0
    connector_id: int = 0
    id_token: str = ""
    id_token_type: str = ""
    status: str = ACTIVE
    ended_at: datetime | None = None
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    energy_wh: float = 0.0
    peak_power_w: float = 0.0
    charging_s: float = 0.0
    stop_reason: str = ""
    power_w: float = 0.0
    power_at: datetime | None = None
    soc_percent: float = 0.0
    soc_at: datetime | None = None
    offline_data: bool = False
    #: TransactionEvents the station's seqNos say never arrived (2.x, per the gateway).
    missing_events: int = 0
    started_seen: bool = False
    ended_seen: bool = False
    last_register_at: datetime | None = None
    last_register_wh: float | None = None
    last_observed_at: datetime | None = None
    last_observed_charging: bool = False
    opened_emitted: bool = False
    closed_emitted: bool = False
    last_emitted_at: datetime | None = None
    #: Not stored: set by the rules when the register series must be summed again.
    needs_energy_recount: bool = field(default=False, compare=False)

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE
