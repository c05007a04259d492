"""Authorize: the engine's answer, with the station's site when a token is site-bound, a
remote authorizer for tokens nobody here knows, and an audit entry for every answer.

`RemoteAuthorizer` is the port the roaming service will fill (OCPI real-time authorization
of partners' tokens); none is configured by default, so unknown tokens are Invalid.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from chargegrid.authorization.audit import DecisionAudit
from chargegrid.authorization.domain import AuditEntry, AuthorizeQuery, Clock, Decision
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.sites import SiteDirectory
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
UNKNOWN = Decision("Invalid", "unknown")


class RemoteAuthorizer(Protocol):
    async def authorize(self, query: AuthorizeQuery) -> Decision | None:
        """A decision for a token this service does not hold; None = unknown there too."""
        ...


class Authorizer:
    def __init__(
        self,
        engine: DecisionEngine,
        sites: SiteDirectory,
        audit: DecisionAudit,
        clock: Clock,
        remote: RemoteAuthorizer | None = None,
        cache_lifetime_s: float = 0.0,
    ) -> None:
        self.engine = engine
        self.sites = sites
        self.audit = audit
        self.clock = clock
        self.remote = remote
        self.cache_lifetime = timedelta(seconds=cache_lifetime_s) if cache_lifetime_s > 0 else None

    async def authorize(self, query: AuthorizeQuery) -> Decision:
        decision = self._cacheable_until(await self._decide(query))
        self.audit.record(
            AuditEntry(
                at=self.clock(),
                station_id=query.station_id,
                id_token=query.id_token,
                token_type=query.token_type,
                purpose=query.purpose,
                transaction_id=query.transaction_id,
                status=decision.status,
                reason=decision.reason,
            )
        )
        return decision

    def _cacheable_until(self, decision: Decision) -> Decision:
        """C10: how long the station may answer an Accepted token from its cache."""
        if self.cache_lifetime is None or decision.status != "Accepted":
            return decision
        until = self.clock() + self.cache_lifetime
        if decision.expires_at is not None:
            until = min(until, decision.expires_at)
        return replace(decision, cache_expires_at=until)

    async def _decide(self, query: AuthorizeQuery) -> Decision:
        if query.token_type.lower() == "noauthorization":
            return Decision("Accepted", "no_authorization")
        token = self.engine.find(query.id_token, query.token_type)
        if token is None:
            return await self._ask_remote(query)
        site = await self.sites.site_of(query.station_id) if token.allowed_site_ids else None
        return self.engine.decide(query, token, site, self.clock())

    async def _ask_remote(self, query: AuthorizeQuery) -> Decision:
        if self.remote is None:
            return UNKNOWN
        try:
            found = await self.remote.authorize(query)
        except Exception as exc:
            log.warning("remote authorization failed", error=repr(exc))
            return Decision("Invalid", "remote_unavailable")
        return found or UNKNOWN
