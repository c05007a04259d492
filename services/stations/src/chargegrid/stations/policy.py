"""Boot decisions: what a station is told at BootNotification, and with which interval."""

from __future__ import annotations

from dataclasses import dataclass

from chargegrid.stations.models import StationRow

ACCEPTED, PENDING, REJECTED = "Accepted", "Pending", "Rejected"
UNKNOWN_STATION_STATUS = {"accept": ACCEPTED, "pending": PENDING, "reject": REJECTED}


@dataclass(frozen=True)
class BootPolicy:
    unknown_station_policy: str
    heartbeat_interval_s: int
    retry_interval_s: int

    @property
    def initial_status(self) -> str:
        """The registration status a station gets when it first shows up."""
        return UNKNOWN_STATION_STATUS[self.unknown_station_policy]

    def decide(self, station: StationRow) -> tuple[str, int]:
        """(status, interval): heartbeat interval when Accepted, retry interval otherwise."""
        if station.registration_status == ACCEPTED:
            return ACCEPTED, station.heartbeat_interval_s or self.heartbeat_interval_s
        return station.registration_status, self.retry_interval_s
