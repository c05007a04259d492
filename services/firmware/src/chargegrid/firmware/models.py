"""The firmware service's tables: images, station updates, campaigns, log files, security
events.

Times are stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike
(`UtcDateTime`). `processed_events` (the consumer's idempotency ledger) is part of the same
metadata so one migration history owns it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.db_types import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData()


processed_events.to_metadata(Base.metadata)


class ImageRow(Base):
    __tablename__ = "images"
    __table_args__ = (Index("ix_images_vendor_model", "vendor", "model"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(50))
    vendor: Mapped[str] = mapped_column(String(50), default="")
    model: Mapped[str] = mapped_column(String(50), default="")
    location: Mapped[str] = mapped_column(String(512))
    signing_certificate: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StationUpdateRow(Base):
    """One update of one station; the newest per station is its current one."""

    __tablename__ = "station_updates"
    __table_args__ = (
        Index("ix_station_updates_station", "station_id", "created_at"),
        Index("ix_station_updates_campaign", "campaign_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    image_id: Mapped[str] = mapped_column(String(64), default="")
    campaign_id: Mapped[str] = mapped_column(String(64), default="")
    location: Mapped[str] = mapped_column(String(512))
    #: The version the station must report at its next boot; empty = any.
    expected_version: Mapped[str] = mapped_column(String(50), default="")
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    request_id: Mapped[int] = mapped_column(Integer)
    #: The version reported at a boot seen mid-install (2.x reboots before "Installed").
    booted_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    #: The IANA zone of the station's site, for the campaign window; None = UTC.
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Optimistic lock: the runner and the event consumer both move updates; a write based
    #: on a stale read fails (and is retried) instead of undoing the other's change.
    row_version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": row_version}


class LogFileRow(Base):
    __tablename__ = "log_files"
    __table_args__ = (Index("ix_log_files_station", "station_id", "request_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    #: The one-time upload token in the location the station was given.
    upload_token: Mapped[str] = mapped_column(String(64), unique=True)
    token_used: Mapped[bool] = mapped_column(Boolean, default=False)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    #: Where the file is stored, relative to the uploads directory.
    stored_path: Mapped[str] = mapped_column(String(512), default="")
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    uploaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SecurityEventRow(Base):
    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_station", "station_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    station_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    tech_info: Mapped[str] = mapped_column(Text, default="")
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CampaignRow(Base):
    """A fleet update; its stations are the station_updates rows with its id."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    image_id: Mapped[str] = mapped_column(String(64))
    #: The CampaignTarget as JSON: the resolved station_ids and, for a selection, its filters.
    target_json: Mapped[str] = mapped_column(Text)
    max_in_flight: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[str] = mapped_column(String(5), default="")
    window_end: Mapped[str] = mapped_column(String(5), default="")
    retries: Mapped[int] = mapped_column(Integer, default=0)
    retry_interval_s: Mapped[int] = mapped_column(Integer, default=0)
    install_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: SCHEDULED until then (the runner starts it); None = started at creation.
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    station_timeout_s: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
