"""A retried 1.6 StartTransaction gets the id of its first attempt, from the session service
(which is told the attempt) or from the gateway's own fallback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc

from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.session.v1 import session_pb2_grpc as session_grpc
from chargegrid.gateway.decisions import AuthorizationCache, FallbackDecisions, StartAttempt
from chargegrid.gateway.service_decisions import ServiceDecisions
from chargegrid.platform.grpc import create_channel

T0 = datetime(2026, 12, 7, 10, tzinfo=UTC)


def an_attempt(**overrides: Any) -> StartAttempt:
    fields: dict[str, Any] = {
        "station_id": "CP1",
        "connector_id": 1,
        "id_tag": "TAG1",
        "timestamp": T0,
        "meter_start_wh": 1200.0,
    }
    return StartAttempt(**(fields | overrides))


def fallback() -> FallbackDecisions:
    clock = iter(datetime.fromtimestamp(T0.timestamp() + n, UTC) for n in range(100))
    return FallbackDecisions(
        "pending", 60, 300, "invalid", AuthorizationCache(60), lambda: next(clock)
    )


async def test_the_fallback_gives_a_retried_start_the_same_id_and_another_start_a_new_one() -> None:
    decisions = fallback()
    first = await decisions.transaction_id("CP1", 1, an_attempt())
    assert await decisions.transaction_id("CP1", 1, an_attempt()) == first
    assert await decisions.transaction_id("CP1", 1, an_attempt(meter_start_wh=1201.0)) != first
    assert await decisions.transaction_id("CP1", 1) != first  # no attempt: always new


class RecordingSessions(session_grpc.SessionsServicer):
    def __init__(self) -> None:
        self.requests: list[session_pb.AllocateTransactionIdRequest] = []

    async def AllocateTransactionId(
        self, request: Any, context: Any
    ) -> session_pb.AllocateTransactionIdReply:
        self.requests.append(request)
        return session_pb.AllocateTransactionIdReply(transaction_id=42)


async def test_the_session_service_is_told_which_start_the_id_is_for() -> None:
    sessions = RecordingSessions()
    server = grpc.aio.server()
    session_grpc.add_SessionsServicer_to_server(sessions, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = create_channel(f"127.0.0.1:{port}")
    try:
        decisions = ServiceDecisions(fallback(), None, None, timeout_s=1, session=channel)
        assert await decisions.transaction_id("CP1", 1, an_attempt()) == 42
    finally:
        await channel.close()
        await server.stop(0)
    (request,) = sessions.requests
    told = (request.id_tag, request.started_at.ToDatetime(tzinfo=UTC), request.meter_start_wh)
    assert told == ("TAG1", T0, 1200.0)
