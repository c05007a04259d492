"""Answers only other services may give: boot acceptance, authorization, 1.6 transaction ids.

The stations, authorization and session services own these decisions and answer over gRPC.
Until such a service is deployed (or while it is unreachable) the gateway applies the
documented, configurable fallback below, logs it and counts it in
`chargegrid_gateway_decision_fallbacks_total`, so an operator sees the degradation:

| decision | fallback |
|---|---|
| BootNotification | `boot_fallback`: Pending (default) with `boot_retry_interval_s`, or Accepted |
| Authorize / id tokens | a recent answer from the service for the same token (cached up to
  `authorize_cache_ttl_s`, only Accepted / Blocked / Expired / Invalid, an Accepted past the
  token's expiry answered Expired), else `authorize_fallback`: Invalid (default) or Accepted |
| running cost (billing service, 2.x TransactionEvent totalCost) | none: no totalCost |
| Get15118EVCertificate, GetCertificateStatus (stations service) | Failed, NoCertificateService |
| SignCertificate (stations service, its CA) | Rejected, reason NoCertificateService: nothing is
  signed without the service that checks the CSR against the station |
| 1.6 transaction id (session service) | a locally allocated id: milliseconds since 2024 in
  31 bits, increasing per process (unique per pod; collisions across pods are improbable but
  possible); a retried StartTransaction gets the id this pod gave it |
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from prometheus_client import Counter

from chargegrid.platform.logging import get_logger
from chargegrid.platform.recent import RecentMap

FALLBACKS = Counter(
    "chargegrid_gateway_decision_fallbacks_total",
    "Decisions the gateway took itself because the owning service was unavailable",
    ["decision", "outcome"],
)
log = get_logger(__name__)
_EPOCH_2024 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BootDecision:
    status: str  # Accepted | Pending | Rejected
    interval_s: int


@dataclass(frozen=True, slots=True)
class AuthDecision:
    status: str  # Accepted | Blocked | Expired | Invalid | ConcurrentTx | ...
    expiry: datetime | None = None
    group_id: str | None = None
    #: The token's source: "local" or "ocpi:<country>-<party>"; "" when not known.
    source: str = ""
    #: Shown to the driver (2.x idTokenInfo.personalMessage) and their language; "" = none.
    personal_message: str = ""
    language: str = ""
    #: Until when the station may answer from its authorization cache (cacheExpiryDateTime);
    #: None = the token's expiry.
    cache_expiry: datetime | None = None


@dataclass(frozen=True, slots=True)
class BootRequest:
    station_id: str
    vendor: str
    model: str
    serial_number: str
    firmware_version: str
    reason: str
    #: common.v1.OcppVersion number and the connection's security profile.
    ocpp_version: int = 0
    security_profile: int = 0


@dataclass(frozen=True, slots=True)
class AuthRequest:
    """An id token presented by a station, and what for (so a running transaction's own token
    is not reported as ConcurrentTx)."""

    station_id: str
    id_token: str
    token_type: str
    #: "authorize", "start" or "transaction".
    purpose: str = "authorize"
    transaction_id: str = ""
    evse_id: int = 0


@dataclass(frozen=True, slots=True)
class StartAttempt:
    """A 1.6 StartTransaction as the station sends it: a retry of one that got an error is
    equal to it, and must get the same transaction id (its first event may be stored)."""

    station_id: str
    connector_id: int
    id_tag: str
    timestamp: datetime
    meter_start_wh: float


@dataclass(frozen=True, slots=True)
class CertificateDecision:
    """The answer to a station's SignCertificate: Accepted (the chain follows) or Rejected."""

    status: str
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CertificateAnswer:
    """Get15118EVCertificate (value: exiResponse) or GetCertificateStatus (value: ocspResult)."""

    status: str  # Accepted | Failed
    value: str = ""
    reason: str = ""
    detail: str = ""


NO_CERTIFICATE_ANSWER = CertificateAnswer(
    "Failed", "", "NoCertificateService", "the certificate service is unavailable"
)
NO_CERTIFICATE_SERVICE = CertificateDecision(
    "Rejected", "NoCertificateService", "the certificate service is unavailable"
)


class Decisions(Protocol):
    async def boot(self, request: BootRequest) -> BootDecision: ...

    async def authorize(self, request: AuthRequest) -> AuthDecision: ...

    async def transaction_id(
        self, station_id: str, connector_id: int = 0, attempt: StartAttempt | None = None
    ) -> int: ...

    async def total_cost(self, station_id: str, transaction_id: str) -> Decimal | None: ...

    async def sign_certificate(
        self, station_id: str, csr: str, certificate_type: str
    ) -> CertificateDecision: ...

    async def ev_certificate(
        self, station_id: str, schema_version: str, action: str, exi_request: str
    ) -> CertificateAnswer: ...

    async def certificate_status(
        self, station_id: str, ocsp_request: dict[str, str]
    ) -> CertificateAnswer: ...


#: What a token *is*, and so may be cached (OCPP Authorization Cache: IdTagInfo statuses).
#: ConcurrentTx and NotAtThisLocation are true only of that moment or that station.
CACHEABLE_STATUSES = frozenset({"Accepted", "Blocked", "Expired", "Invalid"})


class AuthorizationCache:
    """Recent decisions of the authorization service, to answer while it is away.

    Only what a token is gets remembered; an answer about the moment (ConcurrentTx) or the
    station (NotAtThisLocation) is not, and leaves what was remembered before. An Accepted
    whose token expiry has passed since is recalled as Expired.
    """

    def __init__(
        self,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.wall_clock = wall_clock
        self._entries: dict[tuple[str, str], tuple[float, AuthDecision]] = {}

    def remember(self, token: str, token_type: str, decision: AuthDecision) -> None:
        if decision.status in CACHEABLE_STATUSES:
            self._entries[(token, token_type)] = (self.clock(), decision)

    def recall(self, token: str, token_type: str) -> AuthDecision | None:
        entry = self._entries.get((token, token_type))
        if entry is None or self.clock() - entry[0] > self.ttl_s:
            return None
        decision = entry[1]
        if (
            decision.status == "Accepted"
            and decision.expiry is not None
            and decision.expiry <= self.wall_clock()
        ):
            return replace(decision, status="Expired")
        return decision


class FallbackDecisions:
    """Decides locally, per the table above, and says so in logs and metrics."""

    def __init__(
        self,
        boot_status: str,
        boot_retry_interval_s: int,
        heartbeat_interval_s: int,
        authorize_status: str,
        cache: AuthorizationCache,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.boot_status = boot_status.capitalize()
        self.boot_retry_interval_s = boot_retry_interval_s
        self.heartbeat_interval_s = heartbeat_interval_s
        self.authorize_status = authorize_status.capitalize()
        self.cache = cache
        self.clock = clock
        self._last_tx_id = 0
        self._starts: RecentMap[StartAttempt, int] = RecentMap()

    async def boot(self, request: BootRequest) -> BootDecision:
        FALLBACKS.labels("boot", self.boot_status).inc()
        log.warning(
            "stations service unavailable: boot decided by fallback",
            station_id=request.station_id,
            status=self.boot_status,
        )
        interval = (
            self.heartbeat_interval_s
            if self.boot_status == "Accepted"
            else self.boot_retry_interval_s
        )
        return BootDecision(self.boot_status, interval)

    async def authorize(self, request: AuthRequest) -> AuthDecision:
        cached = self.cache.recall(request.id_token, request.token_type)
        decision = cached or AuthDecision(self.authorize_status)
        FALLBACKS.labels("authorize", "cached" if cached else decision.status).inc()
        log.warning(
            "authorization service unavailable: token decided by fallback",
            station_id=request.station_id,
            status=decision.status,
            from_cache=cached is not None,
        )
        return decision

    async def total_cost(self, station_id: str, transaction_id: str) -> Decimal | None:
        """No billing service: the station shows no cost."""
        return None

    async def sign_certificate(
        self, station_id: str, csr: str, certificate_type: str
    ) -> CertificateDecision:
        FALLBACKS.labels("sign_certificate", "Rejected").inc()
        log.warning("stations service unavailable: CSR refused", station_id=station_id)
        return NO_CERTIFICATE_SERVICE

    async def ev_certificate(
        self, station_id: str, schema_version: str, action: str, exi_request: str
    ) -> CertificateAnswer:
        FALLBACKS.labels("ev_certificate", "Failed").inc()
        return NO_CERTIFICATE_ANSWER

    async def certificate_status(
        self, station_id: str, ocsp_request: dict[str, str]
    ) -> CertificateAnswer:
        FALLBACKS.labels("certificate_status", "Failed").inc()
        return NO_CERTIFICATE_ANSWER

    async def transaction_id(
        self, station_id: str, connector_id: int = 0, attempt: StartAttempt | None = None
    ) -> int:
        known = self._starts.get(attempt) if attempt is not None else None
        if known is not None:
            return known
        millis = int((self.clock() - _EPOCH_2024).total_seconds() * 1000) & 0x7FFFFFFF
        self._last_tx_id = max(millis, self._last_tx_id + 1) & 0x7FFFFFFF or 1
        FALLBACKS.labels("transaction_id", "local").inc()
        if attempt is not None:
            self._starts.remember(attempt, self._last_tx_id)
        return self._last_tx_id
