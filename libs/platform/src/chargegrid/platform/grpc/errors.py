"""Domain errors and the gRPC status each maps to, in one place for every service.

Servicers raise these (or their own subclasses) and never pick status codes themselves; the
`ErrorMappingInterceptor`, installed by every `GrpcServer`, turns them into the code and
message the caller sees. A value breaking an identifier or length rule
(`identifiers.InvalidValue`) is INVALID_ARGUMENT, a request whose bytes are not its message
too, and database constraint refusals get their status from `integrity`. Anything else is a
bug: it becomes INTERNAL with a generic message and an error id, and the details go to the
log under that id, never to the caller.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from chargegrid.platform.grpc.decoding import refusing_undecodable
from chargegrid.platform.grpc.integrity import database_status
from chargegrid.platform.grpc.wrapping import wrap_handler
from chargegrid.platform.identifiers import InvalidValue
from chargegrid.platform.logging import get_logger


class DomainError(Exception):
    """A refusal the caller should see; the message is shown to it as the status details."""

    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(DomainError, InvalidValue):
    """Bad input; an `InvalidValue` too, so one `except InvalidValue` catches every refusal
    of a value, whether a rule of `identifiers` or a service's own check raised it."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unavailable(DomainError):
    """Transient: clients built by `create_channel` retry it."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(DomainError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Unimplemented(DomainError):
    code = grpc.StatusCode.UNIMPLEMENTED


def status_for(error: BaseException, error_id: str = "") -> tuple[grpc.StatusCode, str]:
    """The status code and message a caller sees for `error`; `error_id` names an
    unexpected error in the log."""
    if isinstance(error, DomainError):
        return error.code, str(error)
    if isinstance(error, InvalidValue):
        return grpc.StatusCode.INVALID_ARGUMENT, str(error)
    refusal = database_status(error)
    if refusal is not None:
        return refusal
    suffix = f" (error id {error_id})" if error_id else ""
    return grpc.StatusCode.INTERNAL, f"internal error{suffix}"


def is_expected(error: BaseException) -> bool:
    """A refusal of the request, not a fault of the service."""
    return isinstance(error, DomainError | InvalidValue) or database_status(error) is not None


def new_error_id() -> str:
    return uuid.uuid4().hex[:16]


Continuation = Callable[
    [grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]
]


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Innermost interceptor: exceptions out of a servicer become their status code, and
    requests that do not decode become INVALID_ARGUMENT."""

    def __init__(self, error_ids: Callable[[], str] = new_error_id) -> None:
        self._error_ids = error_ids

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method

        @asynccontextmanager
        async def mapped(context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[None]:
            try:
                yield
            except grpc.aio.AbortError:
                raise  # the servicer chose its status itself
            except Exception as exc:
                error_id = "" if is_expected(exc) else self._error_ids()
                code, message = status_for(exc, error_id)
                if error_id:
                    with contextlib.suppress(Exception):  # a broken log sink changes nothing
                        get_logger(__name__).exception(
                            "unhandled error in gRPC handler", method=method, error_id=error_id
                        )
                elif not isinstance(exc, DomainError | InvalidValue):
                    with contextlib.suppress(Exception):
                        get_logger(__name__).info(
                            "database refused a write", method=method, error=type(exc).__name__
                        )
                await context.abort(code, message)

        return wrap_handler(refusing_undecodable(handler), mapped)
