"""Database refusals (unique keys, foreign keys, column sizes) as gRPC statuses.

Two requests racing for one key, or a row deleted under a reference, reach the database's
constraints rather than a service's checks. Every service gets the same answer for them
here, in words a caller can act on and without SQL, table or driver names.
"""

from __future__ import annotations

import grpc
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

#: PostgreSQL SQLSTATEs (asyncpg; class 23 is integrity, class 22 data) and SQLite messages
#: of each kind of violation.
_UNIQUE = ("23505", "UNIQUE constraint failed")
_FOREIGN_KEY = ("23503", "FOREIGN KEY constraint failed")


def _sqlstate(error: DBAPIError) -> str:
    original = error.orig
    return str(getattr(original, "sqlstate", "") or getattr(original, "pgcode", "") or "")


def _kind(error: DBAPIError) -> str:
    state = _sqlstate(error)
    text = str(error.orig)
    if state == _UNIQUE[0] or _UNIQUE[1] in text:
        return "unique"
    if state == _FOREIGN_KEY[0] or _FOREIGN_KEY[1] in text:
        return "foreign_key"
    return "other"


def database_status(error: BaseException) -> tuple[grpc.StatusCode, str] | None:
    """The status for a database refusal, or None when `error` is not one."""
    if not isinstance(error, DBAPIError):
        return None
    state = _sqlstate(error)
    # asyncpg's errors reach SQLAlchemy as plain DBAPIError; their SQLSTATE class tells.
    if isinstance(error, IntegrityError) or state.startswith("23"):
        kind = _kind(error)
        if kind == "unique":
            return grpc.StatusCode.ALREADY_EXISTS, "a record with the same key already exists"
        if kind == "foreign_key":
            return (
                grpc.StatusCode.FAILED_PRECONDITION,
                "the request refers to a record that does not exist, or removes one in use",
            )
        return grpc.StatusCode.FAILED_PRECONDITION, "the request conflicts with the stored data"
    if isinstance(error, DataError) or state.startswith("22"):
        return grpc.StatusCode.INVALID_ARGUMENT, "a value does not fit the field it is stored in"
    return None
