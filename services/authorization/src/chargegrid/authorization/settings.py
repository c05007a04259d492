"""Authorization settings (CHARGEGRID_AUTHORIZATION_*, else CHARGEGRID_*; see README.md)."""

from __future__ import annotations

from chargegrid.platform.db import default_sqlite_url
from chargegrid.platform.settings import ServiceSettings


class AuthorizationSettings(ServiceSettings):
    service_name = "authorization"

    #: The stations service (site of a station, stations of a site); None = not deployed, so
    #: site-restricted tokens are refused and site lists reach no station.
    stations_address: str | None = None
    #: The gateway's StationControl (local lists, ClearCache); None = nothing is pushed.
    gateway_address: str | None = None
    #: The roaming service (OCPI partners' tokens, real-time authorization); None = not
    #: deployed, so tokens unknown here are Invalid.
    roaming_address: str | None = None
    #: Deadline of a roaming Authorize (a driver is waiting), and how long a roaming service
    #: that did not answer is skipped (its tokens are Invalid, reason remote_unavailable).
    roaming_timeout_s: float = 3.0
    roaming_down_for_s: float = 5.0
    #: How long a station may keep an Accepted answer in its authorization cache before it
    #: asks again (2.x cacheExpiryDateTime; the token's expiry if sooner); 0 = until the
    #: token's expiry, as before. A blocked card then stops working offline within this.
    cache_lifetime_s: float = 0.0
    #: How long a station's site is remembered (Authorize must not ask on every call).
    site_cache_ttl_s: float = 60.0
    #: How often other replicas' token and transaction changes are read from the database.
    refresh_interval_s: float = 1.0
    #: How often queued decisions are written to the audit table, and the most kept queued.
    audit_flush_interval_s: float = 0.5
    audit_max_queued: int = 200_000
    #: Deadline of calls to the gateway and the stations service.
    call_timeout_s: float = 10.0
    #: Local-list pushes running at once (the rest wait; a station is queued at most once).
    max_concurrent_pushes: int = 32
    #: Kafka consumer group of this service.
    consumer_group: str = "authorization"
    #: Follow transaction and station events (off only for benchmarks of Authorize alone).
    consume_events: bool = True

    def resolved_database_url(self) -> str:
        return self.database_url or default_sqlite_url(self.service_name, self.var_dir)
