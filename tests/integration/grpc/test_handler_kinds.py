"""Auth, error mapping and observability wrap all four kinds of handler, not just unary ones.

The service here is a generic handler over raw bytes ("test.Echo"), so it is absent from the
descriptor pool, which also makes it admin-only: unknown methods fail closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.platform.grpc import (
    FailedPrecondition,
    GrpcServer,
    Role,
    TokenRegistry,
    create_channel,
)

ECHO = "test.Echo"


async def _unary_unary(request: bytes, context: Any) -> bytes:
    return request.upper()


async def _unary_stream(request: bytes, context: Any) -> AsyncIterator[bytes]:
    for part in request.split(b" "):
        yield part
    if request.endswith(b"!"):
        raise FailedPrecondition("shouted at")


async def _unary_stream_by_writes(request: bytes, context: Any) -> None:
    for part in request.split(b" "):
        await context.write(part)


async def _stream_unary(requests: AsyncIterator[bytes], context: Any) -> bytes:
    return b"+".join([part async for part in requests])


async def _stream_stream(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    async for part in requests:
        yield part[::-1]


def _echo_handler() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        ECHO,
        {
            "UnaryUnary": grpc.unary_unary_rpc_method_handler(_unary_unary),
            "UnaryStream": grpc.unary_stream_rpc_method_handler(_unary_stream),
            "UnaryStreamByWrites": grpc.unary_stream_rpc_method_handler(_unary_stream_by_writes),
            "StreamUnary": grpc.stream_unary_rpc_method_handler(_stream_unary),
            "StreamStream": grpc.stream_stream_rpc_method_handler(_stream_stream),
        },
    )


def _register(handler: grpc.GenericRpcHandler, server: grpc.aio.Server) -> None:
    server.add_generic_rpc_handlers((handler,))


@pytest.fixture
async def echo(tmp_path: Path) -> AsyncIterator[tuple[str, dict[Role, str]]]:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(_register, _echo_handler(), ECHO)
    port = await server.start()
    yield f"127.0.0.1:{port}", tokens
    await server.stop(0.2)


async def _parts(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_all_four_kinds_of_call_go_through(echo: tuple[str, dict[Role, str]]) -> None:
    target, tokens = echo
    async with create_channel(target, token=tokens[Role.ADMIN]) as channel:
        assert await channel.unary_unary(f"/{ECHO}/UnaryUnary")(b"hi") == b"HI"
        streamed: Any = channel.unary_stream(f"/{ECHO}/UnaryStream")(b"a b c")
        assert [part async for part in streamed] == [b"a", b"b", b"c"]
        written: Any = channel.unary_stream(f"/{ECHO}/UnaryStreamByWrites")(b"x y")
        assert [part async for part in written] == [b"x", b"y"]
        joined: Any = await channel.stream_unary(f"/{ECHO}/StreamUnary")(_parts(b"1", b"2"))
        assert joined == b"1+2"
        reversed_: Any = channel.stream_stream(f"/{ECHO}/StreamStream")(_parts(b"ab", b"cd"))
        assert [part async for part in reversed_] == [b"ba", b"dc"]


@pytest.mark.parametrize("role", [Role.SERVICE, Role.VIEWER])
async def test_methods_unknown_to_the_protos_are_admin_only_on_every_kind(
    echo: tuple[str, dict[Role, str]], role: Role
) -> None:
    target, tokens = echo
    async with create_channel(target, token=tokens[role]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as unary:
            await channel.unary_unary(f"/{ECHO}/UnaryUnary")(b"hi")
        with pytest.raises(grpc.aio.AioRpcError) as streamed:
            await channel.stream_stream(f"/{ECHO}/StreamStream")(_parts(b"ab")).read()
    assert unary.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert streamed.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_streams_without_a_token_are_unauthenticated(
    echo: tuple[str, dict[Role, str]],
) -> None:
    target, _ = echo
    async with create_channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await channel.unary_stream(f"/{ECHO}/UnaryStream")(b"a b").read()
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_domain_error_in_the_middle_of_a_stream_ends_it_with_its_code(
    echo: tuple[str, dict[Role, str]],
) -> None:
    target, tokens = echo
    async with create_channel(target, token=tokens[Role.ADMIN]) as channel:
        call: Any = channel.unary_stream(f"/{ECHO}/UnaryStream")(b"a b!")
        received = [await call.read(), await call.read()]
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await call.read()
    assert received == [b"a", b"b!"]
    assert failed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert failed.value.details() == "shouted at"
