"""Id tokens the API stores are ones a station can send (CiString36, printable ASCII, no
spaces or control characters); bad ones are INVALID_ARGUMENT naming the field and the rule,
and nothing is stored (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.platform.grpc import Role
from tests.integration.authorization.conftest import Service, a_token


async def refused(call: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return caught.value.details() or ""


async def stored_ids(stub: Any) -> list[str]:
    reply = await stub.ListTokens(pb.ListTokensRequest())
    return [token.id_token for token in reply.tokens]


@pytest.mark.parametrize(
    ("id_token", "problem"),
    [
        ("TAG\x001", "must be printable ASCII without spaces"),
        ("TAG\n1", "must be printable ASCII without spaces"),
        ("TAG\t1", "must be printable ASCII without spaces"),
        ("TAG 1", "must be printable ASCII without spaces"),
        ("TAGé", "must be printable ASCII without spaces"),
        ("T" * 37, "is longer than 36 characters"),
    ],
)
async def test_an_id_token_no_station_can_send_is_refused(
    service: Service, id_token: str, problem: str
) -> None:
    stub = service.stub()

    details = await refused(stub.CreateToken(pb.CreateTokenRequest(token=a_token(id_token))))

    assert details.startswith(f"token.id_token {problem}")
    assert await stored_ids(stub) == []


async def test_an_import_with_one_bad_token_stores_none(service: Service) -> None:
    stub = service.stub()
    tokens = [a_token("GOOD-1"), a_token("BAD\x7f")]

    details = await refused(stub.ImportTokens(pb.ImportTokensRequest(tokens=tokens)))

    assert details.startswith("tokens[1].id_token ")
    assert await stored_ids(stub) == []


async def test_a_36_character_token_of_printable_ascii_is_stored(service: Service) -> None:
    stub = service.stub()
    id_token = ("!AZaz09~#" * 4)[:36]

    await stub.CreateToken(pb.CreateTokenRequest(token=a_token(id_token)))

    assert await stored_ids(stub) == [id_token]


async def test_a_local_list_scope_of_a_station_id_the_gateway_refuses_is_refused(
    service: Service,
) -> None:
    stub = service.stub()
    scope = pb.LocalListScope(station_id="a/b")

    details = await refused(stub.GetLocalList(pb.GetLocalListRequest(scope=scope)))

    assert details.startswith("scope.station_id must be only")


async def test_an_authorize_of_a_malformed_token_is_judged_not_refused(service: Service) -> None:
    stub = service.stub(Role.SERVICE)

    reply = await stub.Authorize(pb.AuthorizeRequest(station_id="CP1", id_token="TAG\x00"))

    assert reply.status == pb.AUTHORIZATION_STATUS_INVALID


async def test_an_authorize_whose_values_cannot_be_audited_is_refused(service: Service) -> None:
    stub = service.stub(Role.SERVICE)
    request = pb.AuthorizeRequest(station_id="CP1", id_token="T" * 256)

    details = await refused(stub.Authorize(request))

    assert details == "id_token is longer than 255 characters"
