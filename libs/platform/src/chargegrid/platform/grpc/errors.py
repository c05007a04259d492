"""Domain errors and the gRPC status each maps to, in one place for every service.

Servicers raise these (or their own subclasses) and never pick status codes themselves; the
`ErrorMappingInterceptor`, installed by every `GrpcServer`, turns them into the code and
message the caller sees. Anything else is a bug: it becomes INTERNAL with a generic
message, and the details go to the log, not to the caller.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from chargegrid.platform.grpc.wrapping import wrap_handler
from chargegrid.platform.logging import get_logger


class DomainError(Exception):
    """A refusal the caller should see; the message is shown to it as the status details."""

    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(DomainError):
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


def status_for(error: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status code and message a caller sees for `error`."""
    if isinstance(error, DomainError):
        return error.code, str(error)
    return grpc.StatusCode.INTERNAL, "internal error"


Continuation = Callable[
    [grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]
]


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Innermost interceptor: exceptions out of a servicer become their status code."""

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
            except DomainError as exc:
                code, message = status_for(exc)
                await context.abort(code, message)
            except grpc.aio.AbortError:
                raise  # the servicer chose its status itself
            except Exception as exc:
                with contextlib.suppress(Exception):  # a broken log sink changes nothing
                    get_logger(__name__).exception("unhandled error in gRPC handler", method=method)
                code, message = status_for(exc)
                await context.abort(code, message)

        return wrap_handler(handler, mapped)
