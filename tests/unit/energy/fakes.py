"""In-memory fakes of the energy service's ports, and builders of its rows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.energy.directory import SiteInfo, StationInfo
from chargegrid.energy.gateway import Outcome, ProfileResult
from chargegrid.energy.models import ChargingEvseRow, StationStateRow

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeDirectory:
    sites: dict[str, SiteInfo] = field(default_factory=dict)
    stations: dict[str, StationInfo] = field(default_factory=dict)

    def add_site(self, site_id: str, grid_limit_a: float, phases: int = 3) -> None:
        self.sites[site_id] = SiteInfo(site_id, grid_limit_a, phases)

    def add_station(self, station_id: str, site_id: str, version: str = "2.0.1") -> None:
        self.stations[station_id] = StationInfo(station_id, site_id, version, {1: 0.0})

    async def site(self, site_id: str) -> SiteInfo | None:
        return self.sites.get(site_id)

    async def station(self, station_id: str) -> StationInfo | None:
        return self.stations.get(station_id)

    async def stations_of(self, site_id: str) -> list[StationInfo]:
        return [s for s in self.stations.values() if s.site_id == site_id]


@dataclass
class Sent:
    station_id: str
    evse_id: int
    purpose: str
    limit_a: float
    transaction_id: str


class FakeStationControl:
    """Answers like stations would; `behaviour[station]` is accept, reject, silent, offline.

    `log` records ("sent", station, limit) when a profile goes out and ("answered", station,
    limit) when its answer comes back, so tests can see what was answered before what was
    sent."""

    PURPOSES = {
        gw.CHARGING_PROFILE_PURPOSE_TX: "tx",
        gw.CHARGING_PROFILE_PURPOSE_TX_DEFAULT: "tx_default",
        gw.CHARGING_PROFILE_PURPOSE_STATION_MAX: "station_max",
    }

    def __init__(self) -> None:
        self.behaviour: dict[str, str] = {}
        self.sent: list[Sent] = []
        self.log: list[tuple[str, str, float]] = []
        self.delay_s = 0.0
        #: What GetCompositeSchedule shows per station (absent: the last TxProfile limit).
        self.composite: dict[str, float | None] = {}
        self.composite_asked: list[str] = []

    async def set_profile(
        self, station_id: str, evse_id: int, profile: gw.ChargingProfile
    ) -> ProfileResult:
        limit = profile.schedule.periods[0].limit
        purpose = self.PURPOSES[profile.purpose]
        self.sent.append(Sent(station_id, evse_id, purpose, limit, profile.transaction_id))
        self.log.append(("sent", station_id, limit))
        how = self.behaviour.get(station_id, "accept")
        if how == "offline":
            return ProfileResult(Outcome.OFFLINE, "NOT_FOUND", "not connected")
        if how == "silent":
            await asyncio.sleep(3600)
        await asyncio.sleep(self.delay_s)
        self.log.append(("answered", station_id, limit))
        if how == "reject":
            return ProfileResult(Outcome.REJECTED, "Rejected")
        return ProfileResult(Outcome.ACCEPTED, "Accepted")

    async def clear_profile(self, station_id: str, evse_id: int, profile_id: int) -> ProfileResult:
        return ProfileResult(Outcome.ACCEPTED, "Accepted")

    async def composite_limit_a(self, station_id: str, evse_id: int) -> float | None:
        self.composite_asked.append(station_id)
        if station_id in self.composite:
            return self.composite[station_id]
        return self.tx_limits().get(station_id)

    def tx_limits(self) -> dict[str, float]:
        """The last TxProfile limit each station was sent."""
        return {s.station_id: s.limit_a for s in self.sent if s.purpose == "tx"}


def a_charging_evse(station_id: str, site_id: str = "S1", **overrides: Any) -> ChargingEvseRow:
    values: dict[str, Any] = {
        "station_id": station_id,
        "evse_id": 1,
        "site_id": site_id,
        "transaction_id": f"tx-{station_id}",
        "id_token": "",
        "group_id": "",
        "started_at": T0,
        "updated_at": T0,
    }
    values.update(overrides)
    return ChargingEvseRow(**values)


def a_station_state(station_id: str, online: bool = True) -> StationStateRow:
    return StationStateRow(
        station_id=station_id, online=online, ocpp_version="2.0.1", updated_at=T0
    )
