"""Roaming settings (CHARGEGRID_ROAMING_* > CHARGEGRID_*; documented in the service README)."""

from __future__ import annotations

from typing import ClassVar

from chargegrid.platform.db import async_url
from chargegrid.platform.settings import ServiceSettings


class RoamingSettings(ServiceSettings):
    service_name: ClassVar[str] = "roaming"

    #: Address the OCPI HTTP server binds to.
    http_host: str = "0.0.0.0"
    #: Port of the OCPI HTTP server (0 = any free port, tests).
    http_port: int = 8090
    #: Base URL partners reach us at (our versions URL is <public_url>/ocpi/versions);
    #: empty = http://127.0.0.1:<http_port>.
    public_url: str = ""
    #: Our OCPI party: ISO 3166-1 alpha-2 country code and 3-character party id.
    country_code: str = "DE"
    party_id: str = "CGR"
    #: Business name sent in our credentials.
    business_name: str = "ChargeGrid"
    #: Default page size of OCPI GET lists.
    page_default_limit: int = 50
    #: Largest page an OCPI GET list returns (larger `limit`s are clamped, X-Limit says so).
    page_max_limit: int = 100
    #: The stations service (sites, stations, EVSEs): the source of locations.
    stations_address: str | None = None
    #: The billing service: the source of tariffs.
    billing_address: str | None = None
    #: Deadline of one gRPC call to another service.
    call_timeout_s: float = 5.0
    #: How often locations are rebuilt from the stations service (changes are pushed).
    locations_sync_interval_s: float = 60.0
    #: How often billing's tariffs are polled for changes (billing publishes no tariff events).
    tariffs_poll_interval_s: float = 60.0
    #: Deadline of one HTTP call to a partner.
    partner_timeout_s: float = 10.0
    #: How often the outbox is swept when nothing woke the worker.
    outbox_poll_interval_s: float = 1.0
    #: First retry delay of a failed push; doubled per attempt up to outbox_max_backoff_s.
    outbox_base_backoff_s: float = 1.0
    outbox_max_backoff_s: float = 300.0
    #: Days a delivered push is kept (the record of what each partner was sent).
    outbox_retention_days: float = 7.0
    #: Pushes sent in one sweep (each partner's objects stay in order).
    outbox_batch_size: int = 200
    #: Kafka consumer group of the station-events consumer.
    consumer_group: str = "roaming"
    #: Kafka consumer group of the sessions / CDRs consumer (session and billing events).
    flows_consumer_group: str = "roaming-flows"
    #: Currency of Sessions pushed before billing priced them (CDRs carry billing's).
    currency: str = "EUR"
    #: Least session time between two PATCHes of one Session (start and end are always sent).
    session_patch_interval_s: float = 60.0
    #: The gateway's StationControl (OCPI commands); None = commands are answered REJECTED.
    gateway_address: str | None = None
    #: How long a station may take to answer a command before its result is TIMEOUT.
    command_timeout_s: float = 30.0
    #: Longest wait of one fetch for new station events: lower means faster pushes, more polls.
    consumer_fetch_max_wait_ms: int = 100
    #: How often kept CDRs of tokens without a known partner are retried (and at once after
    #: a token is written on this pod).
    unowned_cdr_interval_s: float = 30.0
    #: Days such a CDR is kept waiting for its token's partner (then it was not roaming).
    unowned_cdr_retention_days: float = 30.0
    #: How often partners' token lists are pulled (GET, paged, every registered partner
    #: with a tokens SENDER endpoint); 0 = never (pushes only, and `roaming tokens pull`).
    tokens_pull_interval_s: float = 0.0
    #: Largest request body a partner may send (HTTP 413, OCPI 2001 above it).
    max_body_bytes: int = 1_048_576

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if not self.public_url:
            self.public_url = f"http://127.0.0.1:{self.http_port}"
        self.public_url = self.public_url.rstrip("/")

    @property
    def database(self) -> str:
        """The async URL of the service's database (a SQLite file under var_dir by default)."""
        return async_url(self.database_url, self.service_name, self.var_dir)
