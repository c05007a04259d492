"""The gateway asks stations and authorization over gRPC and falls back when they cannot answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as authz_pb
from chargegrid.api.authorization.v1 import authorization_pb2_grpc as authz_grpc
from chargegrid.api.billing.v1 import billing_pb2 as billing_pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as billing_grpc
from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.session.v1 import session_pb2_grpc as session_grpc
from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.gateway.credentials import ServiceCredentials
from chargegrid.gateway.decisions import (
    AuthorizationCache,
    AuthRequest,
    BootRequest,
    FallbackDecisions,
)
from chargegrid.gateway.ocpp16.core import ID_TAG
from chargegrid.gateway.service_decisions import ServiceDecisions
from chargegrid.platform.grpc.client import create_channel

BOOT = BootRequest("CP1", "Acme", "X1", "S1", "1.0", "PowerUp", ocpp_version=2)


class FakeStations(stations_grpc.StationsServicer):
    def __init__(self) -> None:
        self.boots: list[stations_pb.RegisterBootRequest] = []
        self.verifications = 0

    async def RegisterBoot(self, request: Any, context: Any) -> stations_pb.RegisterBootReply:
        self.boots.append(request)
        return stations_pb.RegisterBootReply(status="Accepted", interval_s=120)

    async def VerifyCredentials(
        self, request: Any, context: Any
    ) -> stations_pb.VerifyCredentialsReply:
        self.verifications += 1
        ok = request.station_id == "CP1" and request.password == "right-password-123"
        return stations_pb.VerifyCredentialsReply(valid=ok, reason="" if ok else "mismatch")


class FakeAuthorization(authz_grpc.AuthorizationServicer):
    def __init__(self) -> None:
        self.requests: list[authz_pb.AuthorizeRequest] = []
        self.delay_s = 0.0

    async def Authorize(self, request: Any, context: Any) -> authz_pb.AuthorizeReply:
        self.requests.append(request)
        await asyncio.sleep(self.delay_s)
        if request.id_token == "BLOCKED":
            return authz_pb.AuthorizeReply(status=authz_pb.AUTHORIZATION_STATUS_BLOCKED)
        if request.id_token == "ELSEWHERE":
            return authz_pb.AuthorizeReply(
                status=authz_pb.AUTHORIZATION_STATUS_NOT_AT_THIS_LOCATION
            )
        return authz_pb.AuthorizeReply(
            status=authz_pb.AUTHORIZATION_STATUS_ACCEPTED, group_id="FLEET", source="local"
        )


@pytest.fixture
async def services() -> AsyncIterator[tuple[FakeStations, FakeAuthorization, int]]:
    server = grpc.aio.server()
    stations, authorization = FakeStations(), FakeAuthorization()
    stations_grpc.add_StationsServicer_to_server(stations, server)
    authz_grpc.add_AuthorizationServicer_to_server(authorization, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield stations, authorization, port
    await server.stop(0)


def fallback(authorize: str = "invalid") -> FallbackDecisions:
    return FallbackDecisions("pending", 60, 300, authorize, AuthorizationCache(300))


async def test_boot_and_authorize_come_from_the_services(
    services: tuple[FakeStations, FakeAuthorization, int],
) -> None:
    stations, authorization, port = services
    channel = create_channel(f"127.0.0.1:{port}")
    decisions = ServiceDecisions(fallback(), channel, channel, timeout_s=2)
    boot = await decisions.boot(BOOT)
    assert (boot.status, boot.interval_s) == ("Accepted", 120)
    assert stations.boots[0].ocpp_version == 2
    decision = await decisions.authorize(
        AuthRequest("CP1", "TAG1", ID_TAG, purpose="start", transaction_id="42", evse_id=1)
    )
    assert (decision.status, decision.group_id, decision.source) == ("Accepted", "FLEET", "local")
    sent = authorization.requests[0]
    # A 1.6 idTag goes without a type; the transaction rides along for ConcurrentTx.
    assert (sent.token_type, sent.purpose, sent.transaction_id) == ("", "start", "42")
    blocked = await decisions.authorize(AuthRequest("CP1", "BLOCKED", "ISO14443"))
    assert blocked.status == "Blocked"
    await channel.close()


async def test_unreachable_services_leave_the_answer_to_the_fallback() -> None:
    channel = create_channel("127.0.0.1:1", max_attempts=1)
    decisions = ServiceDecisions(fallback(), channel, channel, timeout_s=0.5)
    boot = await decisions.boot(BOOT)
    assert (boot.status, boot.interval_s) == ("Pending", 60)
    decision = await decisions.authorize(AuthRequest("CP1", "TAG1", "ISO14443"))
    assert decision.status == "Invalid"
    await channel.close()


async def test_a_slow_service_times_out_into_a_remembered_answer(
    services: tuple[FakeStations, FakeAuthorization, int],
) -> None:
    _, authorization, port = services
    channel = create_channel(f"127.0.0.1:{port}")
    decisions = ServiceDecisions(fallback(), None, channel, timeout_s=0.3)
    assert (await decisions.authorize(AuthRequest("CP1", "TAG1", "ISO14443"))).status == (
        "Accepted"
    )
    authorization.delay_s = 1.0
    again = await decisions.authorize(AuthRequest("CP1", "TAG1", "ISO14443"))
    assert again.status == "Accepted"  # from the cache of the service's last answer
    other = await decisions.authorize(AuthRequest("CP1", "NEVER-SEEN", "ISO14443"))
    assert other.status == "Invalid"
    await channel.close()


async def test_credentials_are_checked_by_the_stations_service_and_cached(
    services: tuple[FakeStations, FakeAuthorization, int],
) -> None:
    stations, _, port = services
    channel = create_channel(f"127.0.0.1:{port}")
    verifier = ServiceCredentials(channel, timeout_s=1)
    assert await verifier.verify("CP1", "right-password-123")
    assert await verifier.verify("CP1", "right-password-123")
    assert stations.verifications == 1
    assert not await verifier.verify("CP1", "wrong-password-123")
    assert not await verifier.verify("CP2", "right-password-123")
    await channel.close()


async def test_credentials_fail_closed_when_the_service_is_away() -> None:
    channel = create_channel("127.0.0.1:1", max_attempts=1)
    verifier = ServiceCredentials(channel, timeout_s=0.5)
    assert not await verifier.verify("CP1", "right-password-123")
    await channel.close()


def test_1_6_stations_get_only_1_6_statuses() -> None:
    from chargegrid.gateway.ocpp16.core import status_16

    assert status_16("ConcurrentTx") == "ConcurrentTx"
    assert status_16("NotAtThisLocation") == "Invalid"
    assert status_16("Unknown") == "Invalid"


class FakeSessions(session_grpc.SessionsServicer):
    def __init__(self) -> None:
        self.next_id = 41

    async def AllocateTransactionId(
        self, request: Any, context: Any
    ) -> session_pb.AllocateTransactionIdReply:
        self.next_id += 1
        return session_pb.AllocateTransactionIdReply(transaction_id=self.next_id)


async def test_1_6_transaction_ids_come_from_the_session_service() -> None:
    server = grpc.aio.server()
    session_grpc.add_SessionsServicer_to_server(FakeSessions(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = create_channel(f"127.0.0.1:{port}")
    try:
        decisions = ServiceDecisions(fallback(), None, None, timeout_s=1, session=channel)
        assert await decisions.transaction_id("CP1", 1) == 42
        assert await decisions.transaction_id("CP1", 2) == 43
    finally:
        await channel.close()
        await server.stop(0)
    away = create_channel("127.0.0.1:1", max_attempts=1)
    decisions = ServiceDecisions(fallback(), None, None, timeout_s=0.5, session=away)
    assert await decisions.transaction_id("CP1", 1) > 0  # the pod's own id
    await away.close()


class FakeBilling(billing_grpc.BillingServicer):
    async def EstimateCost(self, request: Any, context: Any) -> billing_pb.CostBreakdown:
        if request.transaction_id == "unknown":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such session")
        return billing_pb.CostBreakdown(currency="EUR", total_incl_vat="4.1100")


async def test_the_running_cost_comes_from_billing_and_is_left_out_when_unknown() -> None:
    server = grpc.aio.server()
    billing_grpc.add_BillingServicer_to_server(FakeBilling(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = create_channel(f"127.0.0.1:{port}")
    try:
        decisions = ServiceDecisions(fallback(), None, None, timeout_s=1, billing=channel)
        assert await decisions.total_cost("CP1", "tx-1") == Decimal("4.11")
        assert await decisions.total_cost("CP1", "unknown") is None
        assert await ServiceDecisions(fallback(), None, None, 1).total_cost("CP1", "tx") is None
    finally:
        await channel.close()
        await server.stop(0)
