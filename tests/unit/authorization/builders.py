"""Test-data builders for the authorization tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chargegrid.authorization.domain import ActiveTransaction, AuthorizeQuery, Token

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def a_token(id_token: str = "TAG-1", **overrides: Any) -> Token:
    base = Token(id_token=id_token, type="ISO14443", created_at=NOW, updated_at=NOW)
    return replace(base, **overrides)


def a_query(id_token: str = "TAG-1", **overrides: Any) -> AuthorizeQuery:
    base = AuthorizeQuery(station_id="CP-1", id_token=id_token, purpose="authorize")
    return replace(base, **overrides)


def a_transaction(
    id_token: str = "TAG-1", station_id: str = "CP-1", transaction_id: str = "tx-1", **more: Any
) -> ActiveTransaction:
    return ActiveTransaction(
        station_id, transaction_id, id_token, updated_at=more.pop("updated_at", NOW), **more
    )


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)
