"""Authorize over gRPC, the decision audit, and a second replica catching up by polling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.platform.grpc import Role
from tests.integration.authorization.conftest import (
    Service,
    ServiceFactory,
    a_token,
    eventually,
)


def ask(id_token: str, station_id: str = "CP-1", **more: Any) -> pb.AuthorizeRequest:
    return pb.AuthorizeRequest(station_id=station_id, id_token=id_token, **more)


async def test_authorize_answers_from_the_stored_tokens(service: Service) -> None:
    operator, gateway = service.stub(), service.stub(Role.SERVICE)
    past = Timestamp()
    past.FromDatetime(datetime.now(UTC) - timedelta(days=1))
    await operator.ImportTokens(
        pb.ImportTokensRequest(
            tokens=[
                a_token("OK", group_id="FLEET"),
                a_token("FLEET"),
                a_token("BLOCKED", status=pb.AUTHORIZATION_STATUS_BLOCKED),
                a_token("OLD", expires_at=past),
                a_token("SITE-BOUND", allowed_site_ids=["SITE-A"]),
            ]
        )
    )
    service.fakes.stations.site_of.update({"CP-A": "SITE-A", "CP-B": "SITE-B"})

    ok = await gateway.Authorize(ask("OK", token_type=""))
    assert (ok.status, ok.group_id, ok.reason, ok.source) == (
        pb.AUTHORIZATION_STATUS_ACCEPTED,
        "FLEET",
        "accepted",
        "local",
    )
    assert (await gateway.Authorize(ask("NOBODY"))).source == ""  # no token, no source
    assert (await gateway.Authorize(ask("BLOCKED"))).status == pb.AUTHORIZATION_STATUS_BLOCKED
    assert (await gateway.Authorize(ask("OLD"))).status == pb.AUTHORIZATION_STATUS_EXPIRED
    assert (await gateway.Authorize(ask("NOBODY"))).status == pb.AUTHORIZATION_STATUS_INVALID
    assert (await gateway.Authorize(ask("SITE-BOUND", "CP-A"))).status == (
        pb.AUTHORIZATION_STATUS_ACCEPTED
    )
    assert (await gateway.Authorize(ask("SITE-BOUND", "CP-B"))).status == (
        pb.AUTHORIZATION_STATUS_NOT_AT_THIS_LOCATION
    )
    assert (await gateway.Authorize(ask("SITE-BOUND", "CP-UNKNOWN"))).status == (
        pb.AUTHORIZATION_STATUS_NOT_AT_THIS_LOCATION
    )


async def test_a_blocked_group_takes_effect_at_once_for_its_members(service: Service) -> None:
    operator, gateway = service.stub(), service.stub(Role.SERVICE)
    await operator.ImportTokens(
        pb.ImportTokensRequest(tokens=[a_token("MEMBER", group_id="FLEET"), a_token("FLEET")])
    )
    await operator.UpdateToken(
        pb.UpdateTokenRequest(token=a_token("FLEET", status=pb.AUTHORIZATION_STATUS_BLOCKED))
    )
    reply = await gateway.Authorize(ask("MEMBER"))
    assert (reply.status, reply.reason) == (pb.AUTHORIZATION_STATUS_BLOCKED, "group_blocked")


async def test_an_operator_may_not_call_authorize(service: Service) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub(Role.OPERATOR).Authorize(ask("X"))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_every_decision_is_listed_newest_first_with_filters_and_pages(
    service: Service,
) -> None:
    operator, gateway = service.stub(), service.stub(Role.SERVICE)
    await operator.CreateToken(pb.CreateTokenRequest(token=a_token("OK")))
    for n in range(5):
        await gateway.Authorize(ask("OK", "CP-1", purpose="start", transaction_id=str(n)))
    await gateway.Authorize(ask("NOBODY", "CP-2"))

    first = await operator.ListDecisions(
        pb.ListDecisionsRequest(station_id="CP-1", page=PageRequest(page_size=3))
    )
    assert [d.transaction_id for d in first.decisions] == ["4", "3", "2"]
    rest = await operator.ListDecisions(
        pb.ListDecisionsRequest(
            station_id="CP-1", page=PageRequest(page_size=3, page_token=first.next_page_token)
        )
    )
    assert [d.transaction_id for d in rest.decisions] == ["1", "0"]
    assert rest.next_page_token == ""

    unknown = await operator.ListDecisions(pb.ListDecisionsRequest(id_token="NOBODY"))
    assert [(d.station_id, d.status, d.reason) for d in unknown.decisions] == [
        ("CP-2", pb.AUTHORIZATION_STATUS_INVALID, "unknown")
    ]
    future = Timestamp()
    future.FromDatetime(datetime.now(UTC) + timedelta(hours=1))
    later = await operator.ListDecisions(pb.ListDecisionsRequest(since=future))
    assert list(later.decisions) == []


async def test_a_second_replica_sees_changes_made_on_the_first(
    make_service: ServiceFactory,
) -> None:
    first, second = await make_service(), await make_service()
    await first.stub().CreateToken(pb.CreateTokenRequest(token=a_token("SHARED")))
    replica = second.stub(Role.SERVICE)

    async def status() -> int:
        return (await replica.Authorize(ask("SHARED"))).status  # type: ignore[no-any-return]

    await eventually(lambda: second.app.engine.find("SHARED") is not None)
    assert await status() == pb.AUTHORIZATION_STATUS_ACCEPTED
    await first.stub().DeleteToken(pb.DeleteTokenRequest(id_token="SHARED"))
    await eventually(lambda: second.app.engine.find("SHARED") is None)
    assert await status() == pb.AUTHORIZATION_STATUS_INVALID


async def test_a_restarted_service_loads_its_tokens_before_answering(
    make_service: ServiceFactory,
) -> None:
    first = await make_service()
    await first.stub().CreateToken(pb.CreateTokenRequest(token=a_token("KEPT")))
    await first.app.stop()
    again = await make_service()
    assert (await again.stub(Role.SERVICE).Authorize(ask("KEPT"))).status == (
        pb.AUTHORIZATION_STATUS_ACCEPTED
    )
