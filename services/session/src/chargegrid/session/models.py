"""The session tables: sessions, their meter samples, 1.6 transaction ids and the outbox.

Times are stored in UTC and come back timezone-aware on SQLite and PostgreSQL alike
(`UtcDateTime`). A session row also keeps the bookkeeping its rules need (last register
reading, last charging observation, which events were emitted), so one row read decides
every event. `processed_events` (the consumer's idempotency ledger) shares the metadata so
one migration history owns it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.db_types import UtcDateTime

#: 64-bit ids on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData()


processed_events.to_metadata(Base.metadata)


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_status_started", "status", "started_at"),
        Index("ix_sessions_station_status", "station_id", "status"),
        Index("ix_sessions_started", "started_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    id_token: Mapped[str] = mapped_column(String(255), index=True)
    id_token_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    meter_start_wh: Mapped[float | None] = mapped_column(Float)
    meter_stop_wh: Mapped[float | None] = mapped_column(Float)
    energy_wh: Mapped[float] = mapped_column(Float)
    peak_power_w: Mapped[float] = mapped_column(Float)
    charging_s: Mapped[float] = mapped_column(Float)
    stop_reason: Mapped[str] = mapped_column(String(64))
    power_w: Mapped[float] = mapped_column(Float)
    power_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    soc_percent: Mapped[float] = mapped_column(Float)
    soc_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    offline_data: Mapped[bool] = mapped_column(Boolean)
    missing_events: Mapped[int] = mapped_column(Integer, default=0)
    started_seen: Mapped[bool] = mapped_column(Boolean)
    ended_seen: Mapped[bool] = mapped_column(Boolean)
    last_register_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_register_wh: Mapped[float | None] = mapped_column(Float)
    last_observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_observed_charging: Mapped[bool] = mapped_column(Boolean)
    opened_emitted: Mapped[bool] = mapped_column(Boolean)
    closed_emitted: Mapped[bool] = mapped_column(Boolean)
    last_emitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SampleRow(Base):
    __tablename__ = "meter_samples"
    __table_args__ = (
        # The same reading sent twice (a retried StopTransaction) is stored once.
        UniqueConstraint(
            "session_id", "timestamp", "measurand", "phase", "location", name="uq_sample_reading"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("sessions.id", ondelete="CASCADE")
    )
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime())
    measurand: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    context: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(String(16))


class TransactionIdBlockRow(Base):
    """The 1.6 transaction id counter: the first id no block has been given yet. Advanced
    a block at a time (ids.py), so the database's counter stays the only one."""

    __tablename__ = "transaction_id_blocks"

    counter: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)


class OutboxRow(Base):
    """A session event decided in a handler's transaction, waiting to be published."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(128))
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutletMarkRow(Base):
    """The newest time a station said nothing runs on an outlet (evse 0: it booted, 1.6).

    Topics are not ordered with one another, so such a fact may be handled before the
    start of the session it ends (the start then finds the mark), or before the Ended that
    completes it normally (so a status closes only once `swept`, a grace after `noted_at`).
    """

    __tablename__ = "outlet_marks"
    __table_args__ = (Index("ix_outlet_marks_swept_noted_at", "swept", "noted_at"),)

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(32))
    #: Processing time the mark was last moved (the grace counts from it).
    noted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    swept: Mapped[bool] = mapped_column(Boolean, default=False)
