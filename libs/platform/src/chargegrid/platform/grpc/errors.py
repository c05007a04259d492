"""Domain errors and the gRPC status each maps to, in one place for every service.

Servicers raise these (or services' own subclasses); the error-mapping interceptor turns
them into the status code and message the caller sees. Anything else is a bug: it becomes
INTERNAL with a generic message, and the details go to the log, not to the caller.
"""

from __future__ import annotations

import grpc


class DomainError(Exception):
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
    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(DomainError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Unimplemented(DomainError):
    code = grpc.StatusCode.UNIMPLEMENTED


def status_for(error: BaseException) -> tuple[grpc.StatusCode, str]:
    if isinstance(error, DomainError):
        return error.code, str(error)
    return grpc.StatusCode.INTERNAL, "internal error"
