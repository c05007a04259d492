"""Session settings (CHARGEGRID_SESSION_* > CHARGEGRID_*; defaults in the service README)."""

from __future__ import annotations

from typing import ClassVar

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings


class SessionSettings(ServiceSettings):
    service_name: ClassVar[str] = "session"

    #: Kafka consumer group of the transaction and station event consumers.
    consumer_group: str = "session"
    #: At most one session.updated per session in this many seconds (opened/closed always go).
    update_interval_s: float = 30.0
    #: The stations service's gRPC address (CHARGEGRID_STATIONS_ADDRESS); unset = no site ids.
    stations_address: str | None = None
    #: How long one GetStation may hold up the consumer before the site is left empty.
    site_lookup_timeout_s: float = 1.0
    #: How long a station's site id is remembered (failed lookups: a tenth of it).
    site_cache_ttl_s: float = 300.0
    #: How often the outbox publisher looks for rows nobody woke it up for.
    outbox_poll_interval_s: float = 1.0
    #: Rows the outbox publisher sends per round trip.
    outbox_batch_size: int = 500
    #: An outlet reported Available/Faulted closes its session this long after the status
    #: was handled: the Ended of a normal stop (another topic) may still be on its way.
    outlet_free_grace_s: float = 15.0

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)
