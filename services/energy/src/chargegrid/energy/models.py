"""The energy service's tables: the circuit tree, operator limits and policies, per-station
settings, token-group priorities, demand-response events, what is charging now, station
connectivity, and the allocation history.

Configuration (circuits, limits, settings, priorities, DR) is authoritative here; charging
EVSEs and station connectivity are derived from Kafka events and kept here so a restarted
(or newly elected) controller knows at once who is charging. Times are aware UTC on SQLite
and PostgreSQL alike (`UtcDateTime`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
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


class CircuitRow(Base):
    """A node of a site's circuit tree; parent "" = the site's grid connection."""

    __tablename__ = "circuits"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_id: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(128), default="")
    limit_l1_a: Mapped[float] = mapped_column(Float)
    limit_l2_a: Mapped[float] = mapped_column(Float)
    limit_l3_a: Mapped[float] = mapped_column(Float)
    limit_kw: Mapped[float] = mapped_column(Float, default=0.0)
    nominal_voltage_v: Mapped[float] = mapped_column(Float, default=230.0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SiteSettingsRow(Base):
    """The operator's limit (0 = none) and allocation policy of a site."""

    __tablename__ = "site_settings"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_limit_a: Mapped[float] = mapped_column(Float, default=0.0)
    policy: Mapped[str] = mapped_column(String(16), default="fair")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StationSettingsRow(Base):
    __tablename__ = "station_settings"

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    node_id: Mapped[str] = mapped_column(String(64), default="")
    max_current_a: Mapped[float] = mapped_column(Float)
    min_current_a: Mapped[float] = mapped_column(Float)
    phases: Mapped[int] = mapped_column(Integer)
    #: Comma-separated grid phases, one per station phase ("L2,L3,L1").
    rotation: Mapped[str] = mapped_column(String(16))
    offline_fallback_a: Mapped[float] = mapped_column(Float, default=0.0)
    #: Confirm an accepted TxProfile with GetCompositeSchedule (stations that may say
    #: Accepted and not apply it).
    confirm_composite: Mapped[bool] = mapped_column(Boolean, default=False)


class GroupPriorityRow(Base):
    __tablename__ = "group_priorities"

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class DemandResponseRow(Base):
    __tablename__ = "demand_responses"
    __table_args__ = (Index("ix_demand_responses_site", "site_id", "starts_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: "limit_a", "limit_kw" or "percent".
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    #: scheduled, active, ended or cancelled (what the controller last acted on).
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(128), default="operator")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChargingEvseRow(Base):
    """An EVSE with an open transaction, and what it draws (from meter samples)."""

    __tablename__ = "charging_evses"
    __table_args__ = (Index("ix_charging_evses_transaction", "station_id", "transaction_id"),)

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: From the stations service when first seen; "" until it could be asked.
    site_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    transaction_id: Mapped[str] = mapped_column(String(64))
    id_token: Mapped[str] = mapped_column(String(64), default="")
    group_id: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Measured current per station phase (L1, L2, L3 as the meter names them); None = unknown.
    measured_l1_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    measured_l2_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    measured_l3_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    measured_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: From 2.x NotifyEVChargingNeeds, when the station sent one.
    departure_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    energy_needed_wh: Mapped[float | None] = mapped_column(Float, nullable=True)
    ev_max_current_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The newest Energy.Active.Import.Register sample (Wh), and what it was when the EV
    #: stated its energy need (or the first one after): their difference is delivered.
    energy_register_wh: Mapped[float | None] = mapped_column(Float, nullable=True)
    needs_register_wh: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StationStateRow(Base):
    """Connectivity and protocol of a station, as its events say."""

    __tablename__ = "station_states"

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "1.6", "2.0.1", "2.1" or "" (unknown).
    ocpp_version: Mapped[str] = mapped_column(String(8), default="")
    booted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AllocationRow(Base):
    """One allocation the controller applied, with its EVSEs as JSON (history, paged)."""

    __tablename__ = "allocations"
    __table_args__ = (Index("ix_allocations_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger: Mapped[str] = mapped_column(String(128))
    limit_l1_a: Mapped[float] = mapped_column(Float)
    limit_l2_a: Mapped[float] = mapped_column(Float)
    limit_l3_a: Mapped[float] = mapped_column(Float)
    evses_json: Mapped[str] = mapped_column(Text)
