"""Energy settings (CHARGEGRID_ENERGY_* > CHARGEGRID_*)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings


class EnergySettings(ServiceSettings):
    service_name: ClassVar[str] = "energy"

    #: The gateway's StationControl endpoint; unset = every station is offline (counted at
    #: its fallback) and no profile goes out.
    gateway_address: str | None = None
    #: The stations service (sites, their grid limits, which site a station is on); unset =
    #: no site is known and nothing is allocated.
    stations_address: str | None = None
    #: The authorization service (a token's group, for priorities); unset = no groups.
    authorization_address: str | None = None
    #: How long a question to the stations or authorization service may take.
    lookup_timeout_s: float = 5.0
    #: How long a station may take to answer SetChargingProfile before it is stale.
    profile_timeout_s: float = Field(default=10.0, gt=0)
    #: How long what the stations service said about a site or a station is reused.
    directory_ttl_s: float = Field(default=30.0, ge=0)
    consumer_group: str = "energy"
    #: Every site is rebalanced at least this often (also picks up changes other replicas'
    #: consumers stored, and retries stale stations).
    rebalance_interval_s: float = Field(default=15.0, gt=0)
    #: Changes arriving within this window are allocated together (one rebalance, not ten).
    debounce_s: float = Field(default=0.2, ge=0)
    #: Defaults for stations without their own settings.
    default_max_current_a: float = Field(default=32.0, gt=0, le=1000)
    default_min_current_a: float = Field(default=6.0, ge=0, le=1000)
    default_phases: int = Field(default=3, ge=1, le=3)
    #: What a station may draw in its default profile when it loses its connection; 0 = its
    #: minimum current (the safe choice: every offline station together must fit).
    default_offline_fallback_a: float = Field(default=0.0, ge=0)
    #: Phase-to-neutral voltage for kW limits.
    nominal_voltage_v: float = Field(default=230.0, gt=0)
    #: Allocation history rows kept per site.
    history_per_site: int = Field(default=10_000, gt=0)
    #: Highest limit accepted for a site or circuit, per phase (refuses typos like 40000).
    max_limit_a: float = Field(default=10_000.0, gt=0)

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)
