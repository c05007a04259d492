"""OCPI 2.2.1 status codes (status_codes.asciidoc) and the error that carries one.

An `OcpiError` raised anywhere in a request ends it with the OCPI envelope of its status code
and its HTTP status; the handlers in `chargegrid.roaming.ocpi.errors` do the translation.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    HUB_ERROR = 4000


class OcpiError(Exception):
    """A request that cannot be served: its OCPI status, HTTP status and a message."""

    def __init__(self, status: Status, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_status = http_status


def unauthorized(message: str = "missing or unknown credentials token") -> OcpiError:
    return OcpiError(Status.INVALID_PARAMETERS, message, 401)


def forbidden(message: str) -> OcpiError:
    return OcpiError(Status.CLIENT_ERROR, message, 403)


def not_found(message: str, status: Status = Status.UNKNOWN_LOCATION) -> OcpiError:
    return OcpiError(status, message, 404)


def invalid(message: str) -> OcpiError:
    return OcpiError(Status.INVALID_PARAMETERS, message, 400)


def method_not_allowed(message: str) -> OcpiError:
    return OcpiError(Status.CLIENT_ERROR, message, 405)
