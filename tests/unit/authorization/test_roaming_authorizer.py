"""The roaming seam over real gRPC: partners' answers, unknown tokens, a dead or slow roaming."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from chargegrid.api.roaming.v1 import authorization_pb2 as pb
from chargegrid.api.roaming.v1.authorization_pb2_grpc import (
    RoamingAuthorizationServicer,
    add_RoamingAuthorizationServicer_to_server,
)
from chargegrid.authorization.roaming import RoamingAuthorizer
from chargegrid.platform.embedded_broker import free_port
from tests.unit.authorization.builders import a_query
from tests.unit.authorization.test_authorizer import an_authorizer


class FakeRoaming(RoamingAuthorizationServicer):
    def __init__(self) -> None:
        self.asked: list[pb.RoamingAuthorizeRequest] = []
        self.delay_s = 0.0

    async def Authorize(
        self, request: pb.RoamingAuthorizeRequest, context: grpc.aio.ServicerContext
    ) -> pb.RoamingAuthorizeReply:
        self.asked.append(request)
        await asyncio.sleep(self.delay_s)
        if not request.id_token.startswith("NL"):
            return pb.RoamingAuthorizeReply(known=False)
        status = "Blocked" if request.id_token.endswith("X") else "Accepted"
        return pb.RoamingAuthorizeReply(
            known=True, status=status, reason="partner_allowed", source="ocpi:NL-EMS"
        )


@pytest.fixture
async def roaming() -> AsyncIterator[tuple[FakeRoaming, str]]:
    fake = FakeRoaming()
    server = grpc.aio.server()
    add_RoamingAuthorizationServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield fake, f"127.0.0.1:{port}"
    await server.stop(0)


async def test_a_partner_token_is_answered_by_roaming_with_its_source(
    roaming: tuple[FakeRoaming, str],
) -> None:
    fake, address = roaming
    async with grpc.aio.insecure_channel(address) as channel:
        authorizer, _, audit = an_authorizer(remote=RoamingAuthorizer(channel))
        decision = await authorizer.authorize(a_query("NL123", station_id="CP-9", evse_id=2))
        blocked = await authorizer.authorize(a_query("NL12X"))
    assert (decision.status, decision.source) == ("Accepted", "ocpi:NL-EMS")
    assert blocked.status == "Blocked"
    assert (fake.asked[0].station_id, fake.asked[0].evse_id) == ("CP-9", 2)
    assert [e.status for e in audit.entries] == ["Accepted", "Blocked"]


async def test_a_token_no_partner_knows_stays_unknown(roaming: tuple[FakeRoaming, str]) -> None:
    _, address = roaming
    async with grpc.aio.insecure_channel(address) as channel:
        authorizer, _, _ = an_authorizer(remote=RoamingAuthorizer(channel))
        decision = await authorizer.authorize(a_query("DE999"))
    assert (decision.status, decision.reason) == ("Invalid", "unknown")


async def test_an_unreachable_roaming_is_invalid() -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as channel:
        authorizer, _, _ = an_authorizer(remote=RoamingAuthorizer(channel, timeout_s=1.0))
        decision = await authorizer.authorize(a_query("NL123"))
    assert (decision.status, decision.reason) == ("Invalid", "remote_unavailable")


async def test_a_slow_roaming_times_out_and_is_skipped_until_down_for_has_passed(
    roaming: tuple[FakeRoaming, str],
) -> None:
    fake, address = roaming
    fake.delay_s = 2.0
    clock = [100.0]
    async with grpc.aio.insecure_channel(address) as channel:
        remote = RoamingAuthorizer(channel, 0.2, down_for_s=5.0, monotonic=lambda: clock[0])
        authorizer, _, _ = an_authorizer(remote=remote)
        timed_out = await authorizer.authorize(a_query("NL123"))
        fake.delay_s = 0.0
        clock[0] += 1.0
        skipped = await authorizer.authorize(a_query("NL123"))
        asked_while_down = len(fake.asked)
        clock[0] += 5.0
        back = await authorizer.authorize(a_query("NL123"))
    assert (timed_out.status, timed_out.reason) == ("Invalid", "remote_unavailable")
    assert (skipped.status, skipped.reason) == ("Invalid", "remote_unavailable")
    assert asked_while_down == 1
    assert back.status == "Accepted"
