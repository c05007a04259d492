"""Stations settings (CHARGEGRID_STATIONS_* > CHARGEGRID_*; defaults in the service README)."""

from __future__ import annotations

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

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)

    @property
    def offline_after_s(self) -> float:
        return self.heartbeat_interval_s * self.offline_grace_factor
