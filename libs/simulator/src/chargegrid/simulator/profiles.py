"""Smart-charging profiles the CSMS installed, and the limit they impose right now.

Profiles arrive as OCPP 1.6 or 2.x payloads and are translated into this one model, so the
stacking rules (purpose, stack level, validity, recurrence) are written once and the EV model
can ask a single question: how many watts may this connector draw at this moment?
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chargegrid.simulator.meter import amps_to_watts

RECURRENCE_SECONDS = {"Daily": 86_400, "Weekly": 604_800}


class Purpose(StrEnum):
    """Why a profile exists; decides how it combines with the others."""

    STATION_MAX = "StationMax"
    TX_DEFAULT = "TxDefault"
    TX = "Tx"
    EXTERNAL = "External"


class Kind(StrEnum):
    """Where the schedule's clock starts."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


@dataclass(frozen=True)
class SchedulePeriod:
    """From `start_s` into the schedule on, draw at most `limit` (in the profile's unit)."""

    start_s: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True)
class ChargingProfile:
    """One installed profile; connector 0 means the whole station."""

    profile_id: int
    connector_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    unit: str
    periods: tuple[SchedulePeriod, ...]
    installed_at: datetime
    start_schedule: datetime | None = None
    duration_s: int | None = None
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None

    def for_transaction(self, transaction_id: str) -> ChargingProfile:
        """This profile bound to a transaction (RemoteStart profiles get theirs late)."""
        return replace(self, transaction_id=transaction_id)

    def period_at(self, moment: datetime, tx_start: datetime | None) -> SchedulePeriod | None:
        """The schedule period in force at `moment`, or None when the profile is silent."""
        if self.valid_from and moment < self.valid_from:
            return None
        if self.valid_to and moment >= self.valid_to:
            return None
        elapsed = (moment - self.schedule_origin(moment, tx_start)).total_seconds()
        if elapsed < 0 or (self.duration_s is not None and elapsed >= self.duration_s):
            return None
        active = [p for p in self.periods if p.start_s <= elapsed]
        return max(active, key=lambda p: p.start_s) if active else None

    def schedule_origin(self, moment: datetime, tx_start: datetime | None) -> datetime:
        """When second zero of the schedule is, for the repetition that covers `moment`."""
        if self.kind is Kind.RELATIVE:
            return tx_start or moment
        origin = self.start_schedule or self.valid_from or self.installed_at
        cycle = RECURRENCE_SECONDS.get(self.recurrency or "")
        if self.kind is Kind.RECURRING and cycle and moment >= origin:
            repeats = int((moment - origin).total_seconds() // cycle)
            origin += timedelta(seconds=repeats * cycle)
        return origin

    def watts(self, period: SchedulePeriod, voltage_v: float, phases: int) -> float:
        if self.unit == "W":
            return period.limit
        return amps_to_watts(period.limit, voltage_v, period.phases or phases)


class ProfileStore:
    """The profiles installed on one station, with the OCPP replacement rules."""

    def __init__(self) -> None:
        self._profiles: dict[int, ChargingProfile] = {}

    def installed(self) -> list[ChargingProfile]:
        return list(self._profiles.values())

    def install(self, profile: ChargingProfile) -> None:
        """Add a profile; one with the same id, or same slot (connector, purpose, level), goes."""
        for existing in list(self._profiles.values()):
            same_slot = (
                existing.connector_id == profile.connector_id
                and existing.purpose == profile.purpose
                and existing.stack_level == profile.stack_level
            )
            if existing.profile_id == profile.profile_id or same_slot:
                del self._profiles[existing.profile_id]
        self._profiles[profile.profile_id] = profile

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove every profile matching all given criteria; returns how many went."""
        doomed = [
            p.profile_id
            for p in self._profiles.values()
            if (profile_id is None or p.profile_id == profile_id)
            and (connector_id is None or p.connector_id == connector_id)
            and (purpose is None or p.purpose == purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for key in doomed:
            del self._profiles[key]
        return len(doomed)

    def clear_transaction(self, connector_id: int) -> None:
        """TxProfiles live only as long as their transaction."""
        self.clear(connector_id=connector_id, purpose=Purpose.TX)

    def station_limit_w(self, moment: datetime, voltage_v: float, phases: int) -> float | None:
        """The station-wide cap (ChargePointMax / ChargingStationMax) at `moment`."""
        return self._top(self._matching(Purpose.STATION_MAX, 0), moment, None, voltage_v, phases)

    def connector_limit_w(
        self,
        connector_id: int,
        moment: datetime,
        *,
        tx_start: datetime | None,
        transaction_id: str | None,
        voltage_v: float,
        phases: int,
    ) -> float | None:
        """The per-connector cap: TxProfile over TxDefault, capped by external limits."""
        limits: list[float] = []
        tx_profiles = [
            p
            for p in self._matching(Purpose.TX, connector_id)
            if tx_start is not None and p.transaction_id in (None, transaction_id)
        ]
        tx_limit = self._top(tx_profiles, moment, tx_start, voltage_v, phases)
        if tx_limit is None:
            own = self._matching(Purpose.TX_DEFAULT, connector_id)
            tx_limit = self._top(own, moment, tx_start, voltage_v, phases)
            if tx_limit is None:
                shared = self._matching(Purpose.TX_DEFAULT, 0)
                tx_limit = self._top(shared, moment, tx_start, voltage_v, phases)
        if tx_limit is not None:
            limits.append(tx_limit)
        for scope in {0, connector_id}:
            external = self._matching(Purpose.EXTERNAL, scope)
            found = self._top(external, moment, tx_start, voltage_v, phases)
            if found is not None:
                limits.append(found)
        return min(limits) if limits else None

    def _matching(self, purpose: Purpose, connector_id: int) -> list[ChargingProfile]:
        return [
            p
            for p in self._profiles.values()
            if p.purpose == purpose and p.connector_id == connector_id
        ]

    @staticmethod
    def _top(
        profiles: list[ChargingProfile],
        moment: datetime,
        tx_start: datetime | None,
        voltage_v: float,
        phases: int,
    ) -> float | None:
        """The highest stack level that has a period in force wins."""
        for profile in sorted(profiles, key=lambda p: p.stack_level, reverse=True):
            period = profile.period_at(moment, tx_start)
            if period is not None:
                return profile.watts(period, voltage_v, phases)
        return None
