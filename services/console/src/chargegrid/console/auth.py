"""Who is calling: bearer API tokens from the shared registry, roles, event-stream tickets.

Roles rank viewer < operator < admin: viewers read, operators also command, admins also
manage id tokens and tariffs. The console checks the role itself and forwards the caller's
token to the services, which check it again. Service tokens are for service-to-service
calls and are refused here. Tokens are never logged.

EventSource cannot send headers, so a page first asks `POST /api/v1/events/ticket` (with its
bearer token) for a ticket: a random opaque string this console process remembers, with the
caller, for `ticket_ttl_s`; the stream takes it as `?ticket=`. A ticket opens the event
stream and nothing else, it dies with its token, and it never leaves the process (so the
token stays out of URLs and logs). Several console pods behind one URL need sticky sessions
for the stream, or the page uses the bearer header with a fetch()-based reader.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chargegrid.console.problems import Problem
from chargegrid.platform.grpc.tokens import Role, TokenRegistry

RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller; `token` is forwarded to the services (None for tickets)."""

    name: str
    role: Role
    token: str | None

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()


class Authenticator:
    """Checks bearer tokens against the registry and issues / checks stream tickets."""

    def __init__(self, registry: TokenRegistry, ticket_ttl_s: float = 300.0) -> None:
        self.registry = registry
        self.ticket_ttl_s = ticket_ttl_s
        self.clock: Callable[[], float] = time.monotonic
        self._tickets: dict[str, tuple[str, float]] = {}

    def from_header(self, header: str | None) -> Caller:
        if not header:
            raise Problem(401, "missing bearer token: send 'Authorization: Bearer <api token>'")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Problem(401, "the Authorization header must be 'Bearer <api token>'")
        return self._caller(token)

    def _caller(self, token: str) -> Caller:
        principal = self.registry.authenticate(token)
        if principal is None:
            raise Problem(401, "invalid or revoked API token")
        if principal.role not in RANK:
            raise Problem(403, f"role {principal.role.value} may not use the console")
        return Caller(principal.name, principal.role, token)

    def issue_ticket(self, caller: Caller) -> tuple[str, float]:
        """A new ticket for `caller` and its lifetime in seconds."""
        now = self.clock()
        self._tickets = {t: v for t, v in self._tickets.items() if v[1] > now}
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = (caller.token or "", now + self.ticket_ttl_s)
        return ticket, self.ticket_ttl_s

    def from_ticket(self, ticket: str) -> Caller:
        found = self._tickets.get(ticket)
        if found is None:
            raise Problem(401, "unknown event-stream ticket: ask POST /api/v1/events/ticket")
        token, expires = found
        if expires < self.clock():
            self._tickets.pop(ticket, None)
            raise Problem(401, "the event-stream ticket has expired: ask for a new one")
        return self._caller(token)  # a revoked token's tickets die with it


def _authenticator(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


#: Declares the bearer scheme in the OpenAPI document (the Authorize button of /api/docs);
#: the check itself is ours, so it never answers on its own.
BEARER = HTTPBearer(auto_error=False, description="An API token (`chargegrid tokens`).")


def _require(minimum: Role) -> Callable[..., Coroutine[Any, Any, Caller]]:
    async def dependency(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
    ) -> Caller:
        # async: a plain def would run in the thread pool (see deps.py).
        caller = _authenticator(request).from_header(request.headers.get("authorization"))
        if RANK[caller.role] < RANK[minimum]:
            raise Problem(
                403,
                f"role {caller.role.value} may not do this: it needs {minimum.value} or above",
            )
        return caller

    dependency.__name__ = f"require_{minimum.value}"
    return dependency


viewer = _require(Role.VIEWER)
operator = _require(Role.OPERATOR)
admin = _require(Role.ADMIN)
