"""Requests whose bytes are not the method's message: INVALID_ARGUMENT, not UNKNOWN.

grpc.aio deserializes a request before any interceptor code runs and answers a failure with
UNKNOWN "Unexpected <class 'DecodeError'>", naming an internal class. The deserializer is
therefore wrapped: a request that cannot be decoded arrives as an `Undecodable` marker, and
the handler refuses it (after auth, inside error mapping) with INVALID_ARGUMENT "request is
not a valid X".
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from chargegrid.platform.identifiers import InvalidValue


class Undecodable:
    """Stands for request bytes that are not a valid `message`."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def message_name(deserializer: Callable[[bytes], Any]) -> str:
    """The proto name of what `deserializer` (a generated `X.FromString`) decodes."""
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return str(getattr(descriptor, "name", "") or "request message")


def tolerant(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    name = message_name(deserializer)

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # DecodeError, or bad UTF-8 in a string field: the bytes' fault
            return Undecodable(name)

    return decode


def _refuse_undecodable(request: Any) -> None:
    if isinstance(request, Undecodable):
        raise InvalidValue(f"request is not a valid {request.message}")


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
