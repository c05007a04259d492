"""Session settings (CHARGEGRID_SESSION_* > CHARGEGRID_*; defaults in the service README)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings


class SessionSettings(ServiceSettings):
    service_name: ClassVar[str] = "session"

    #: Kafka consumer group of the transaction and station event consumers.
    consumer_group: str = "session"
    #: At most one session.updated per session in this many seconds (opened/closed always go).
    update_interval_s: float = 30.0
    #: 1.6 transaction ids reserved per database round trip and handed out from memory
    #: (what is left of a block when the replica stops is never used: gaps, no repeats).
    transaction_id_block_size: int = Field(100, ge=1, le=100_000)
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
    #: The gateway's StationControl (CHARGEGRID_GATEWAY_ADDRESS), to ask 2.x stations about
    #: their transactions after a boot; unset = not asked.
    gateway_address: str | None = None
    #: Ask a 2.x station that booted about each of its active sessions (GetTransactionStatus)
    #: and close those it says are not ongoing with nothing queued.
    transaction_status_checks: bool = True
    #: Deadline of one GetTransactionStatus through the gateway.
    transaction_status_timeout_s: float = Field(10.0, gt=0)
    #: Boots waiting to be asked about; more are dropped (and counted) while it is full.
    transaction_status_max_pending: int = Field(1000, ge=1)

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)
