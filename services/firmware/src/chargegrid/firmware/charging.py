"""Whether a station is charging someone now, asked of the session service.

An update reboots the station, which would end a driver's session; so an update that is not
forced waits for the station to be free. Without a session service (not deployed) no
station is ever in a session: the operator chose not to track sessions.
"""

from __future__ import annotations

from typing import Protocol

import grpc

from chargegrid.api.session.v1 import session_pb2 as se
from chargegrid.api.session.v1 import session_pb2_grpc as se_grpc


class SessionsUnavailable(Exception):
    """The session service could not be asked; whether the station charges is unknown."""


class ChargingSessions(Protocol):
    async def in_session(self, station_id: str) -> bool:
        """Whether the station has an active session; raises SessionsUnavailable."""
        ...


class GrpcChargingSessions:
    """ChargingSessions over gRPC; without a channel no station is in a session."""

    def __init__(self, channel: grpc.aio.Channel | None, timeout_s: float = 5.0) -> None:
        self._stub: se_grpc.SessionsAsyncStub | None = (
            se_grpc.SessionsStub(channel) if channel is not None else None
        )
        self.timeout_s = timeout_s

    async def in_session(self, station_id: str) -> bool:
        if self._stub is None:
            return False
        request = se.ActiveSessionsRequest(station_id=station_id)
        try:
            reply = await self._stub.ActiveSessions(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise SessionsUnavailable(
                f"session service unavailable: {exc.code().name} {exc.details()}"
            ) from exc
        return any(s.station_id in ("", station_id) for s in reply.sessions)
