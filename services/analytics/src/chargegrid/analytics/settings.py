"""Analytics settings (CHARGEGRID_ANALYTICS_* > CHARGEGRID_*; defaults in the service README)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    service_name: ClassVar[str] = "analytics"

    #: Kafka consumer group of the ingest consumers (one per topic).
    consumer_group: str = "analytics"
    #: The stations service's gRPC address (CHARGEGRID_STATIONS_ADDRESS): each station's site
    #: and the site's time zone; unset = every station counts under no site, in UTC.
    stations_address: str | None = None
    #: How long one site lookup may hold up ingest before the station counts under no site.
    site_lookup_timeout_s: float = Field(1.0, gt=0)
    #: How long a station's site and time zone are remembered (failed lookups: a tenth).
    site_cache_ttl_s: float = Field(300.0, gt=0)
    #: The longest range one query may cover, in days (a little over a leap year + a day).
    max_query_days: int = Field(370, ge=1)

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)
