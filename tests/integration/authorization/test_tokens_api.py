"""Token RPCs over real gRPC, stored on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from tests.integration.authorization.conftest import Service, a_token


async def _refused(call: Any, code: grpc.StatusCode, text: str = "") -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value.details()
    assert text in (caught.value.details() or "")
    return caught.value.details() or ""


async def test_a_created_token_can_be_read_updated_and_deleted(service: Service) -> None:
    stub = service.stub()
    expiry = Timestamp(seconds=4_102_444_800)  # 2100-01-01
    created = await stub.CreateToken(
        pb.CreateTokenRequest(
            token=a_token(group_id="FLEET", owner_ref="cust-7", expires_at=expiry)
        )
    )
    assert created.status == pb.AUTHORIZATION_STATUS_ACCEPTED
    assert created.source == "local"
    assert created.created_at.seconds > 0

    got = await stub.GetToken(pb.GetTokenRequest(id_token="TAG-1"))
    assert (got.group_id, got.owner_ref, got.expires_at) == ("FLEET", "cust-7", expiry)

    updated = await stub.UpdateToken(
        pb.UpdateTokenRequest(token=a_token(status=pb.AUTHORIZATION_STATUS_BLOCKED))
    )
    assert updated.status == pb.AUTHORIZATION_STATUS_BLOCKED
    assert updated.group_id == ""  # replaced, not merged
    assert updated.created_at == created.created_at

    await stub.DeleteToken(pb.DeleteTokenRequest(id_token="TAG-1", type=pb.TOKEN_TYPE_ISO14443))
    await _refused(stub.GetToken(pb.GetTokenRequest(id_token="TAG-1")), grpc.StatusCode.NOT_FOUND)
    # A deleted token may be created again.
    await stub.CreateToken(pb.CreateTokenRequest(token=a_token()))


async def test_a_tokens_concurrency_limit_is_stored_and_updated(service: Service) -> None:
    stub = service.stub()
    created = await stub.CreateToken(
        pb.CreateTokenRequest(token=a_token("FLEET-1", max_concurrent_transactions=3))
    )
    assert created.max_concurrent_transactions == 3
    held = service.app.engine.find("FLEET-1")
    assert held is not None
    assert held.max_concurrent_transactions == 3
    updated = await stub.UpdateToken(
        pb.UpdateTokenRequest(token=a_token("FLEET-1", max_concurrent_transactions=5))
    )
    got = await stub.GetToken(pb.GetTokenRequest(id_token="FLEET-1"))
    assert updated.max_concurrent_transactions == got.max_concurrent_transactions == 5


async def test_creating_an_existing_token_is_already_exists(service: Service) -> None:
    stub = service.stub()
    await stub.CreateToken(pb.CreateTokenRequest(token=a_token()))
    await _refused(
        stub.CreateToken(pb.CreateTokenRequest(token=a_token())), grpc.StatusCode.ALREADY_EXISTS
    )


async def test_an_update_without_a_status_keeps_the_stored_one(service: Service) -> None:
    stub = service.stub()
    await stub.CreateToken(
        pb.CreateTokenRequest(token=a_token(status=pb.AUTHORIZATION_STATUS_BLOCKED))
    )
    updated = await stub.UpdateToken(pb.UpdateTokenRequest(token=a_token(owner_ref="x")))
    assert updated.status == pb.AUTHORIZATION_STATUS_BLOCKED


async def test_the_same_id_under_two_types_needs_a_type_to_be_named(service: Service) -> None:
    stub = service.stub()
    await stub.CreateToken(pb.CreateTokenRequest(token=a_token()))
    await stub.CreateToken(
        pb.CreateTokenRequest(token=pb.Token(id_token="TAG-1", type=pb.TOKEN_TYPE_EMAID))
    )
    await _refused(
        stub.GetToken(pb.GetTokenRequest(id_token="TAG-1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "give its type",
    )
    got = await stub.GetToken(pb.GetTokenRequest(id_token="TAG-1", type=pb.TOKEN_TYPE_EMAID))
    assert got.type == pb.TOKEN_TYPE_EMAID


async def test_list_tokens_filters_pages_and_counts(service: Service) -> None:
    stub = service.stub()
    tokens = [a_token(f"A-{n:03}", owner_ref="fleet" if n % 2 else "") for n in range(25)]
    tokens += [a_token("B-1", status=pb.AUTHORIZATION_STATUS_BLOCKED)]
    tokens += [a_token("A_%", source="ocpi:NL-TNM")]
    await stub.ImportTokens(pb.ImportTokensRequest(tokens=tokens))

    seen, page_token, totals = [], "", set()
    while True:
        reply = await stub.ListTokens(
            pb.ListTokensRequest(
                id_prefix="A-", page=PageRequest(page_size=10, page_token=page_token)
            )
        )
        seen += [t.id_token for t in reply.tokens]
        totals.add(reply.total)
        page_token = reply.next_page_token
        if not page_token:
            break
    assert seen == [f"A-{n:03}" for n in range(25)]
    assert totals == {25}

    async def ids(**filters: Any) -> list[str]:
        return [t.id_token for t in (await stub.ListTokens(pb.ListTokensRequest(**filters))).tokens]

    assert await ids(status=pb.AUTHORIZATION_STATUS_BLOCKED) == ["B-1"]
    assert len(await ids(owner_ref="fleet")) == 12
    assert await ids(source="ocpi:NL-TNM") == ["A_%"]
    assert await ids(id_prefix="A_") == ["A_%"]  # LIKE wildcards are taken literally


async def test_list_tokens_refuses_oversized_pages_and_foreign_page_tokens(
    service: Service,
) -> None:
    stub = service.stub()
    await _refused(
        stub.ListTokens(pb.ListTokensRequest(page=PageRequest(page_size=1001))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_size",
    )
    await _refused(
        stub.ListTokens(pb.ListTokensRequest(page=PageRequest(page_token="not-ours"))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token",
    )


async def test_import_creates_and_replaces_all_or_nothing(service: Service) -> None:
    stub = service.stub()
    await stub.CreateToken(pb.CreateTokenRequest(token=a_token("OLD")))
    reply = await stub.ImportTokens(
        pb.ImportTokensRequest(
            tokens=[a_token("OLD", status=pb.AUTHORIZATION_STATUS_BLOCKED), a_token("NEW")]
        )
    )
    assert (reply.created, reply.updated) == (1, 1)

    await _refused(
        stub.ImportTokens(
            pb.ImportTokensRequest(
                tokens=[a_token("FRESH"), a_token("BAD", status=pb.AUTHORIZATION_STATUS_UNKNOWN)]
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "tokens[1].status",
    )
    await _refused(
        stub.ImportTokens(pb.ImportTokensRequest(tokens=[a_token("TWICE"), a_token("TWICE")])),
        grpc.StatusCode.INVALID_ARGUMENT,
        "more than once",
    )
    listed = await stub.ListTokens(pb.ListTokensRequest())
    assert sorted(t.id_token for t in listed.tokens) == ["NEW", "OLD"]


@pytest.mark.parametrize(
    ("token", "text"),
    [
        (pb.Token(), "id_token is required"),
        (pb.Token(id_token="A", type=77), "unknown token type 77"),  # type: ignore[arg-type]
        (pb.Token(id_token="A", status=pb.AUTHORIZATION_STATUS_CONCURRENT_TX), "cannot be stored"),
        (pb.Token(id_token="A", status=pb.AUTHORIZATION_STATUS_UNKNOWN), "cannot be stored"),
        (pb.Token(id_token="A", source="elsewhere"), "source"),
        (pb.Token(id_token="A", max_concurrent_transactions=-1), "max_concurrent_transactions"),
        (pb.Token(id_token="A", max_concurrent_transactions=1001), "max_concurrent_transactions"),
    ],
)
async def test_bad_tokens_are_refused_and_nothing_is_stored(
    service: Service, token: pb.Token, text: str
) -> None:
    stub = service.stub()
    await _refused(
        stub.CreateToken(pb.CreateTokenRequest(token=token)),
        grpc.StatusCode.INVALID_ARGUMENT,
        text,
    )
    assert (await stub.ListTokens(pb.ListTokensRequest())).total == 0


async def test_updating_or_deleting_a_missing_token_is_not_found(service: Service) -> None:
    stub = service.stub()
    await _refused(
        stub.UpdateToken(pb.UpdateTokenRequest(token=a_token("GHOST"))), grpc.StatusCode.NOT_FOUND
    )
    await _refused(
        stub.DeleteToken(pb.DeleteTokenRequest(id_token="GHOST")), grpc.StatusCode.NOT_FOUND
    )
