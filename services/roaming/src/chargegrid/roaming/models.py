"""Roaming's tables: partners and their credentials, the outbox of pushes, and the local
projections of what we publish (locations with their EVSEs' live status, tariffs).

Tokens partners present to us (A, then B or C) are kept only as SHA-256 digests. The token
we present to a partner (their B or C) must be sent as it is, so it is stored as it is: it
grants access to the partner's API on our behalf, and the database is the only place it lives
(see the README, 'Credentials'). JSON documents are stored as text: identical on SQLite and
PostgreSQL, and always read and written whole.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.db_types import UtcDateTime

#: An auto-incrementing 64-bit key (SQLite only auto-increments INTEGER PRIMARY KEY).
Serial = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData()


processed_events.to_metadata(Base.metadata)


class PartnerRow(Base):
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    country_code: Mapped[str] = mapped_column(String(2), default="")
    party_id: Mapped[str] = mapped_column(String(3), default="")
    #: JSON list of the partner's CredentialsRoles as they sent them.
    roles: Mapped[str] = mapped_column(Text, default="[]")
    #: JSON list of module identifiers the partner may use and receive.
    allowed_modules: Mapped[str] = mapped_column(Text, default="[]")
    #: PENDING (token A issued), REGISTERED, SUSPENDED, UNREGISTERED.
    status: Mapped[str] = mapped_column(String(16))
    versions_url: Mapped[str] = mapped_column(String(1000), default="")
    version: Mapped[str] = mapped_column(String(16), default="")
    #: JSON list of the partner's endpoints: {identifier, role, url}.
    endpoints: Mapped[str] = mapped_column(Text, default="[]")
    #: Digest of the registration token A we issued (cleared once it is used).
    token_a_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    #: Digest of the token the partner presents to us once registered (our C or B).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    #: The token we present to the partner (their C or B), as it is.
    their_token: Mapped[str | None] = mapped_column(String(512), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxRow(Base):
    """One push to one partner; delivered strictly in id order per (partner, object_key)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    module: Mapped[str] = mapped_column(String(32))
    object_key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    #: Appended to the partner's endpoint URL of `module` (RECEIVER role).
    path: Mapped[str] = mapped_column(String(1000))
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class LocationRow(Base):
    """A site as an OCPI Location (without its EVSEs, which are rows of their own)."""

    __tablename__ = "locations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    doc: Mapped[str] = mapped_column(Text)
    #: Digest of `doc` as built from the stations service: a change is pushed, a sync that
    #: finds the same digest changes nothing.
    digest: Mapped[str] = mapped_column(String(64))
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class EvseRow(Base):
    """One EVSE of a station, with its live OCPI status."""

    __tablename__ = "evses"
    __table_args__ = (Index("ix_evses_station", "station_id", "evse_id", unique=True),)

    uid: Mapped[str] = mapped_column(String(36), primary_key=True)
    location_id: Mapped[str] = mapped_column(String(36), index=True)
    station_id: Mapped[str] = mapped_column(String(64))
    evse_id: Mapped[int] = mapped_column(Integer)
    #: The EVSE without status and last_updated (those are the columns below).
    doc: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime)


class StationStatusRow(Base):
    """The newest connector status a station reported, kept even before the EVSE is known."""

    __tablename__ = "evse_status"

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class TariffRow(Base):
    """A billing tariff as an OCPI Tariff (the newest version billing has)."""

    __tablename__ = "tariffs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    doc: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    #: False once billing no longer has it (a DELETE was pushed).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
