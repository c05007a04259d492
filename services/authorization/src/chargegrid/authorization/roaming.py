"""The remote authorizer backed by the roaming service (OCPI real-time authorization).

A token nobody here holds may belong to a roaming partner's driver: the roaming service
answers from the tokens partners pushed and, when their whitelist says so, asks the partner.
The call has a short deadline because a driver is waiting at the charger; an unreachable or
slow roaming service is remembered for `down_for_s`, so an outage costs one timeout, not one
per Authorize, and the caller falls back to its own answer (Invalid, remote_unavailable).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC

import grpc

from chargegrid.api.roaming.v1 import authorization_pb2 as pb
from chargegrid.api.roaming.v1.authorization_pb2_grpc import RoamingAuthorizationStub
from chargegrid.authorization.domain import DECISION_STATUSES, AuthorizeQuery, Decision
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


class RoamingUnavailable(Exception):
    """The roaming service did not answer in time (or is remembered as down)."""


class RoamingAuthorizer:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        timeout_s: float = 3.0,
        down_for_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = RoamingAuthorizationStub(channel)
        self.timeout_s = timeout_s
        self.down_for_s = down_for_s
        self._monotonic = monotonic
        self._down_until = 0.0

    async def authorize(self, query: AuthorizeQuery) -> Decision | None:
        if self._monotonic() < self._down_until:
            raise RoamingUnavailable("roaming service recently unreachable")
        request = pb.RoamingAuthorizeRequest(
            id_token=query.id_token,
            token_type=query.token_type,
            station_id=query.station_id,
            evse_id=query.evse_id,
        )
        try:
            reply = await self._stub.Authorize(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                self._down_until = self._monotonic() + self.down_for_s
            log.warning("roaming authorization failed", code=str(exc.code()))
            raise RoamingUnavailable(str(exc.code())) from exc
        self._down_until = 0.0
        return decision_of(reply)


def decision_of(reply: pb.RoamingAuthorizeReply) -> Decision | None:
    """The reply as a Decision; None when no partner knows the token."""
    if not reply.known:
        return None
    status = reply.status if reply.status in DECISION_STATUSES else "Invalid"
    expires = reply.expires_at.ToDatetime(tzinfo=UTC) if reply.HasField("expires_at") else None
    return Decision(
        status, reply.reason or "roaming", expires, reply.group_id, reply.source or "ocpi"
    )
