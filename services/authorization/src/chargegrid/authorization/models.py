"""Tables of the authorization database (SQLAlchemy Core; migrations in ../../migrations).

Timestamps are stored in UTC and always come back timezone-aware, on SQLite as on
PostgreSQL. Tokens are soft-deleted so that other replicas, which poll `updated_at`, see the
deletion; closed sessions (`active_transactions` mirrors session.events.v1) are kept for the
same reason and so that nothing late opens them again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from chargegrid.platform.bus.idempotency import processed_events

metadata = MetaData()
ID = String(255)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


AutoId = BigInteger().with_variant(Integer(), "sqlite")

tokens = Table(
    "tokens",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("id_token", ID, nullable=False),
    Column("type", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("group_id", ID, nullable=False, default=""),
    Column("owner_ref", ID, nullable=False, default=""),
    #: JSON list of site ids; empty list = every site.
    Column("allowed_site_ids", Text, nullable=False, default="[]"),
    Column("source", String(64), nullable=False, default="local"),
    Column("deleted", Boolean, nullable=False, default=False),
    #: 0 = the group's setting, else one transaction at a time.
    Column("max_concurrent_transactions", Integer, nullable=False, default=0),
    Column("personal_message", Text, nullable=False, default=""),
    Column("language", String(8), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("id_token", "type", name="uq_tokens_id_token_type"),
    Index("ix_tokens_updated_at", "updated_at"),
    Index("ix_tokens_group_id", "group_id"),
    Index("ix_tokens_owner_ref", "owner_ref"),
)

transactions = Table(
    "active_transactions",
    metadata,
    Column("station_id", ID, primary_key=True),
    Column("transaction_id", ID, primary_key=True),
    Column("id_token", ID, nullable=False, default=""),
    Column("ended", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("evse_id", Integer, nullable=False, default=0),
    Index("ix_active_transactions_updated_at", "updated_at"),
    Index("ix_active_transactions_id_token", "id_token"),
)

local_lists = Table(
    "local_lists",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("scope_kind", String(8), nullable=False),
    Column("scope_id", ID, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("scope_kind", "scope_id", name="uq_local_lists_scope"),
)

local_list_entries = Table(
    "local_list_entries",
    metadata,
    Column(
        "list_id",
        AutoId,
        ForeignKey("local_lists.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("id_token", ID, primary_key=True),
    Column("type", String(32), primary_key=True),
    Index("ix_local_list_entries_token", "id_token", "type"),
)

local_list_syncs = Table(
    "local_list_syncs",
    metadata,
    Column("station_id", ID, primary_key=True),
    Column("version", Integer, nullable=False, default=0),
    Column("update_type", String(16), nullable=False, default=""),
    Column("status", String(32), nullable=False, default=""),
    Column("at", UtcDateTime, nullable=True),
    Column("acked_version", Integer, nullable=False, default=0),
    #: JSON of the entries the station confirmed; NULL = unknown, so the next push is Full.
    Column("acked_entries", Text, nullable=True),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("station_id", ID, nullable=False),
    Column("id_token", ID, nullable=False),
    Column("token_type", String(32), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("transaction_id", ID, nullable=False),
    Column("status", String(32), nullable=False),
    Column("reason", String(64), nullable=False),
    Index("ix_decisions_station_id", "station_id", "id"),
    Index("ix_decisions_id_token", "id_token", "id"),
    Index("ix_decisions_at", "at"),
)

# The platform's idempotency table lives in this database too (claim_event).
processed_events.to_metadata(metadata)
