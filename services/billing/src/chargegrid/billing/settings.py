"""Billing settings (CHARGEGRID_BILLING_* > CHARGEGRID_*; documented in the service README)."""

from __future__ import annotations

from typing import ClassVar

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    service_name: ClassVar[str] = "billing"

    #: The stations service (site of a station, time zone of a site); unset = every site UTC.
    stations_address: str | None = None
    #: The authorization service (token group of an id token); unset = no group tariffs.
    authorization_address: str | None = None
    #: The gateway's StationControl, for CostUpdated to 2.x stations; unset = none sent.
    gateway_address: str | None = None
    #: Send the running cost to stations that support CostUpdated (2.0.1, 2.1).
    cost_updates: bool = True
    #: Most CostUpdated calls in flight; further session updates skip theirs meanwhile.
    cost_updates_max_pending: int = 200
    #: Deadline of one call to stations or authorization.
    call_timeout_s: float = 3.0
    #: How long a station's site, a site's time zone and a token's group are cached.
    lookup_cache_ttl_s: float = 300.0
    #: Kafka consumer group of the session-events consumer.
    consumer_group: str = "billing"
    #: Longest wait of one fetch for new session events: lower means faster CDRs, more polls.
    consumer_fetch_max_wait_ms: int = 100
    #: How often the outbox is swept when nothing woke the publisher.
    outbox_poll_interval_s: float = 1.0
    #: Most cdr.created events published in one batch.
    outbox_batch_size: int = 200

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)
