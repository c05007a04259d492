"""The registry's tables: sites, stations, connectors, desired and applied configuration.

Passwords exist only as PBKDF2 digests. Times are stored in UTC and come back timezone-aware
on SQLite and PostgreSQL alike (`UtcDateTime`). `processed_events` (the consumer's
idempotency ledger) is part of the same metadata so one migration history owns it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
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


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    latitude: Mapped[float] = mapped_column(Float, default=0.0)
    longitude: Mapped[float] = mapped_column(Float, default=0.0)
    timezone: Mapped[str] = mapped_column(String(64), default="")
    grid_limit_a: Mapped[float] = mapped_column(Float, default=0.0)
    grid_phases: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StationRow(Base):
    __tablename__ = "stations"
    __table_args__ = (Index("ix_stations_site_id", "site_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("sites.id", ondelete="RESTRICT"), nullable=True
    )
    vendor: Mapped[str] = mapped_column(String(50), default="")
    model: Mapped[str] = mapped_column(String(50), default="")
    serial_number: Mapped[str] = mapped_column(String(50), default="")
    firmware_version: Mapped[str] = mapped_column(String(50), default="")
    #: common.v1.OcppVersion number (0 = never connected).
    ocpp_version: Mapped[int] = mapped_column(Integer, default=0)
    #: The profile of the last connection (from the gateway's Connected event).
    security_profile: Mapped[int] = mapped_column(Integer, default=0)
    #: The profile every connection must meet (0 = none; a password still requires Basic).
    required_security_profile: Mapped[int] = mapped_column(Integer, default=0)
    #: A profile upgrade sent to the station (A05), required once it reconnects with it.
    pending_security_profile: Mapped[int] = mapped_column(Integer, default=0)
    #: OCPP spelling: Accepted, Pending, Rejected.
    registration_status: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    certificate_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_boot_reason: Mapped[str] = mapped_column(String(40), default="")
    last_boot_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: 0 = the service default.
    heartbeat_interval_s: Mapped[int] = mapped_column(Integer, default=0)
    #: The pod holding the station's WebSocket; empty when none does.
    gateway_pod: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConnectorRow(Base):
    """One connector of one EVSE (1.6: EVSE id = connector id) with its live status."""

    __tablename__ = "connectors"

    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20), default="")
    max_power_w: Mapped[float] = mapped_column(Float, default=0.0)
    max_current_a: Mapped[float] = mapped_column(Float, default=0.0)
    #: station.v1.ConnectorStatus number.
    status: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str] = mapped_column(String(50), default="")
    info: Mapped[str] = mapped_column(String(500), default="")
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DesiredConfigRow(Base):
    """A desired key/value for a scope: ("station", id), ("site", id), ("vendor_model", v/m)."""

    __tablename__ = "desired_configuration"

    scope_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_value: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ConfigStateRow(Base):
    """What happened the last time a key was applied to a station."""

    __tablename__ = "configuration_state"

    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The desired value of that attempt (a later change makes the key "pending" again).
    desired_value: Mapped[str] = mapped_column(Text, default="")
    reported_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReportedVariableRow(Base):
    """A value the station reported (2.x NotifyReport Actual attribute, 1.6 GetConfiguration)."""

    __tablename__ = "reported_variables"

    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    readonly: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReservationRow(Base):
    """A reservation this registry asked a station for; its id is the OCPP reservation id."""

    __tablename__ = "reservations"
    __table_args__ = (Index("ix_reservations_station_id", "station_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE")
    )
    evse_id: Mapped[int] = mapped_column(Integer, default=0)
    connector_id: Mapped[int] = mapped_column(Integer, default=0)
    id_token: Mapped[str] = mapped_column(String(36))
    token_type: Mapped[str] = mapped_column(String(20), default="")
    group_id_token: Mapped[str] = mapped_column(String(36), default="")
    expiry: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Requested (sent, no answer yet), Reserved, Cancelled, Expired, Removed, or the
    #: station's refusal (Occupied, Faulted, Unavailable, Rejected).
    status: Mapped[str] = mapped_column(String(16))
    last_station_answer: Mapped[str] = mapped_column(String(32), default="")
    #: The transaction that used it (status Used); "" otherwise.
    transaction_id: Mapped[str] = mapped_column(String(36), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertRow(Base):
    """One event of a 2.x NotifyEvent; (station, event id, time) is its natural key."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_station_id", "station_id", "id"),
        Index("uq_alerts_event", "station_id", "event_id", "occurred_at", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger: Mapped[str] = mapped_column(String(32), default="")
    variable: Mapped[str] = mapped_column(String(200), default="")
    actual_value: Mapped[str] = mapped_column(String(2500), default="")
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    tech_code: Mapped[str] = mapped_column(String(50), default="")
    tech_info: Mapped[str] = mapped_column(String(500), default="")
    severity: Mapped[int] = mapped_column(Integer, default=-1)
    variable_monitoring_id: Mapped[int] = mapped_column(Integer, default=0)
    event_notification_type: Mapped[str] = mapped_column(String(32), default="")
    cause: Mapped[int] = mapped_column(Integer, default=0)


class StationReportRow(Base):
    """One part of an asynchronous 2.x report the registry keeps whole (display messages,
    monitors); the station numbers the parts of one request by seqNo."""

    __tablename__ = "station_reports"

    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True
    )
    action: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    payload_json: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IssuedCertificateRow(Base):
    """A certificate the CSMS CA issued to a station: kept for expiry tracking and renewal."""

    __tablename__ = "issued_certificates"
    __table_args__ = (Index("ix_issued_certificates_not_after", "not_after"),)

    #: The serial number in hex (unique per CA; random 159 bits).
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("stations.id", ondelete="CASCADE"), index=True
    )
    #: ChargingStationCertificate or V2GCertificate.
    certificate_type: Mapped[str] = mapped_column(String(40))
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    certificate_pem: Mapped[str] = mapped_column(Text)
    #: pending (not yet delivered), delivered, rejected (the station refused it), failed.
    delivery: Mapped[str] = mapped_column(String(16), default="pending")
    #: When renewal was asked for (TriggerMessage); a newer certificate supersedes this one.
    renewal_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
