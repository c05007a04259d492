"""Billing's tables: tariff versions, assignments, active sessions and their points, CDRs and
the outbox of events still to publish.

Decimals are stored as strings (exact on SQLite and PostgreSQL alike), times in UTC and read
back timezone-aware. `cdrs.session_id` is unique: the database itself refuses a second CDR
for a session. `processed_events` (the consumer's idempotency ledger) is part of the same
metadata so one migration history owns it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.db_types import UtcDateTime as PlatformUtcDateTime

#: An auto-incrementing 64-bit key (SQLite only auto-increments INTEGER PRIMARY KEY).
Serial = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(PlatformUtcDateTime):
    """A UTC column that refuses naive datetimes: every billed moment is known in UTC."""

    cache_ok = True
    naive_is_utc = False


class Base(DeclarativeBase):
    metadata = MetaData()


processed_events.to_metadata(Base.metadata)


class TariffRow(Base):
    __tablename__ = "tariffs"

    tariff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    vat_percent: Mapped[str] = mapped_column(String(40))
    #: JSON list of elements (see domain.codec).
    elements: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    display_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AssignmentRow(Base):
    __tablename__ = "tariff_assignments"
    __table_args__ = (Index("ix_assignment_target", "target_kind", "target_value"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tariff_id: Mapped[str] = mapped_column(String(64), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_value: Mapped[str] = mapped_column(String(128))
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ActiveSessionRow(Base):
    """A session billing has seen open and not yet closed: enough to estimate its cost."""

    __tablename__ = "active_sessions"

    session_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    site_id: Mapped[str] = mapped_column(String(64), default="")
    id_token: Mapped[str] = mapped_column(String(64), default="")
    id_token_type: Mapped[str] = mapped_column(String(32), default="")
    #: Resolved once at open (None = not yet known: looked up again later).
    token_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SessionPointRow(Base):
    """One SessionUpdated: a point of the session's usage timeline."""

    __tablename__ = "session_points"

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    energy_wh: Mapped[str] = mapped_column(String(40))
    charging_s: Mapped[int] = mapped_column(BigInteger)
    power_w: Mapped[str] = mapped_column(String(40))


class CdrRow(Base):
    __tablename__ = "cdrs"

    #: Insertion order: the key of stable paging.
    seq: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(String(200), unique=True)
    station_id: Mapped[str] = mapped_column(String(64), index=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    id_token: Mapped[str] = mapped_column(String(64), index=True)
    id_token_type: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    energy_wh: Mapped[str] = mapped_column(String(40))
    total_time_s: Mapped[int] = mapped_column(BigInteger)
    charging_time_s: Mapped[int] = mapped_column(BigInteger)
    parking_time_s: Mapped[int] = mapped_column(BigInteger)
    #: JSON cost breakdown (see domain.codec).
    cost: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxRow(Base):
    """An event stored with the change it reports, published (then deleted) afterwards."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(128))
    #: The serialized Envelope, event id included, so a re-publish is a recognisable duplicate.
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
