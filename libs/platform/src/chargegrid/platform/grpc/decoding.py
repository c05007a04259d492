"""Requests whose bytes are not the method's message: INVALID_ARGUMENT, not UNKNOWN.

grpc.aio deserializes a request before any interceptor code runs and answers a failure with
UNKNOWN "Unexpected <class 'DecodeError'>", naming an internal class. The deserializer is
therefore wrapped: a request that cannot be decoded arrives as an `Undecodable` marker, and
the handler refuses it (after auth, inside error mapping) with INVALID_ARGUMENT "request is
not a valid X". A Timestamp outside what its type allows counts as undecodable too.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from chargegrid.platform.grpc.timestamps import invalid_timestamp
from chargegrid.platform.identifiers import InvalidValue


class Undecodable:
    """Stands for request bytes that are not a valid `message` (`why`, when known)."""

    __slots__ = ("message", "why")

    def __init__(self, message: str, why: str = "") -> None:
        self.message = message
        self.why = why


def message_name(deserializer: Callable[[bytes], Any]) -> str:
    """The proto name of what `deserializer` (a generated `X.FromString`) decodes."""
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return str(getattr(descriptor, "name", "") or "request message")


def tolerant(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    name = message_name(deserializer)

    def decode(data: bytes) -> Any:
        try:
            request = deserializer(data)
        except Exception:  # DecodeError, or bad UTF-8 in a string field: the bytes' fault
            return Undecodable(name)
        field = invalid_timestamp(request) if isinstance(request, Message) else None
        if field is not None:
            return Undecodable(name, f"{field} is not a valid Timestamp (years 1-9999)")
        return request

    return decode


def _refuse_undecodable(request: Any) -> None:
    if isinstance(request, Undecodable):
        why = f": {request.why}" if request.why else ""
        raise InvalidValue(f"request is not a valid {request.message}{why}")


def refusing_undecodable(
    handler: grpc.RpcMethodHandler[Any, Any],
) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` with a tolerant deserializer and the refusal of undecodable requests.

    Only unary requests are covered: no ChargeGrid method takes a request stream."""
    deserializer = handler.request_deserializer
    if deserializer is None:
        return handler
    if handler.unary_unary is not None:
        inner_uu: Any = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            _refuse_undecodable(request)
            return await inner_uu(request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary, tolerant(deserializer), handler.response_serializer
        )
    if handler.unary_stream is not None:
        inner_us: Any = handler.unary_stream

        async def unary_stream(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            _refuse_undecodable(request)
            result: Any = inner_us(request, context)
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            else:  # a coroutine that writes with context.write()
                await result

        return grpc.unary_stream_rpc_method_handler(
            unary_stream, tolerant(deserializer), handler.response_serializer
        )
    return handler
