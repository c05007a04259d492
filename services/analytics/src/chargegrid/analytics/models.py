"""The analytics tables: register readings, 15-minute energy windows, CDR revenue.

`energy_windows` is the authoritative figure store: one row per EVSE and 15-minute UTC
window (its start in epoch seconds), with the site and the site-local labels it was
counted under. `energy_hours` and `energy_days` hold the same energy summed per local hour
and day, added to in the same statement batch as the windows, so a year of one site by day
or month reads a few hundred rows instead of 35,040 per EVSE. `meter_readings` keeps every
register reading, so an event that arrives late or out of order finds its neighbours and
corrects exactly the windows it touches. `processed_events` (the idempotency ledger) shares
the metadata so one migration history owns it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.db_types import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData()


processed_events.to_metadata(Base.metadata)


class MeterReadingRow(Base):
    __tablename__ = "meter_readings"

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer)
    wh: Mapped[float] = mapped_column(Float)


class EnergyWindowRow(Base):
    __tablename__ = "energy_windows"
    __table_args__ = (
        # Covering: a site's year of windows is read from the index alone.
        Index("ix_energy_windows_site_window", "site_id", "window_start", "wh", "label_quarter"),
        Index("ix_energy_windows_window", "window_start"),
    )

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Epoch seconds (UTC) of the window's start.
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    label_quarter: Mapped[str] = mapped_column(String(32))
    label_hour: Mapped[str] = mapped_column(String(32))
    label_day: Mapped[str] = mapped_column(String(10))
    label_month: Mapped[str] = mapped_column(String(7))
    wh: Mapped[float] = mapped_column(Float)


class EnergyHourRow(Base):
    """The windows of one local hour summed (kept with them, in the same transaction)."""

    __tablename__ = "energy_hours"
    __table_args__ = (
        Index("ix_energy_hours_site_hour", "site_id", "hour_start", "wh", "label_hour"),
        Index("ix_energy_hours_hour", "hour_start"),
    )

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    label_hour: Mapped[str] = mapped_column(String(32))
    wh: Mapped[float] = mapped_column(Float)


class EnergyDayRow(Base):
    """The windows of one local day summed; months are GROUP BYs of these."""

    __tablename__ = "energy_days"
    __table_args__ = (
        Index("ix_energy_days_site_day", "site_id", "day_start"),
        Index("ix_energy_days_day", "day_start"),
    )

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    label_day: Mapped[str] = mapped_column(String(10))
    label_month: Mapped[str] = mapped_column(String(7))
    wh: Mapped[float] = mapped_column(Float)


class RevenueRow(Base):
    """One CDR's revenue; amounts in millionths of the currency unit (exact sums)."""

    __tablename__ = "revenue_cdrs"
    __table_args__ = (Index("ix_revenue_site_started", "site_id", "started_at"),)

    cdr_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64))
    #: Epoch seconds of the session start.
    started_at: Mapped[int] = mapped_column(BigInteger)
    label_day: Mapped[str] = mapped_column(String(10))
    label_month: Mapped[str] = mapped_column(String(7))
    tariff_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    excl_vat_micros: Mapped[int] = mapped_column(BigInteger)
    incl_vat_micros: Mapped[int] = mapped_column(BigInteger)
    energy_wh: Mapped[float] = mapped_column(Float)


class ClosedSessionRow(Base):
    """One closed session (session.closed), with its start on its site's local clock."""

    __tablename__ = "closed_sessions"
    __table_args__ = (
        Index("ix_closed_sessions_site_started", "site_id", "started_at"),
        Index("ix_closed_sessions_started", "started_at"),
        Index("ix_closed_sessions_token", "id_token", "started_at"),
    )

    session_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64))
    evse_id: Mapped[int] = mapped_column(Integer)
    id_token: Mapped[str] = mapped_column(String(255))
    token_type: Mapped[str] = mapped_column(String(32))
    #: Epoch seconds.
    started_at: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(BigInteger)
    idle_s: Mapped[int] = mapped_column(BigInteger)
    energy_wh: Mapped[float] = mapped_column(Float)
    no_energy: Mapped[int] = mapped_column(Integer)
    label_day: Mapped[str] = mapped_column(String(10))
    label_month: Mapped[str] = mapped_column(String(7))
    hour_of_day: Mapped[str] = mapped_column(String(2))
    day_of_week: Mapped[str] = mapped_column(String(1))


class ServiceStateRow(Base):
    """Small facts the service keeps about itself (the consumer group generation)."""

    __tablename__ = "service_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class RefusedAuthorizationRow(Base):
    """A token refused at a start (Authorize, StartTransaction, a TransactionEvent): a
    failed start. Keyed by the event id, so re-delivery counts it once."""

    __tablename__ = "refused_authorizations"
    __table_args__ = (
        Index("ix_refused_authorizations_site_at", "site_id", "at"),
        Index("ix_refused_authorizations_at", "at"),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[str] = mapped_column(String(64))
    #: 0 when the station named none (1.6 and 2.x Authorize).
    evse_id: Mapped[int] = mapped_column(Integer)
    id_token: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    #: Epoch seconds.
    at: Mapped[int] = mapped_column(BigInteger)
    label_day: Mapped[str] = mapped_column(String(10))
    label_month: Mapped[str] = mapped_column(String(7))
    hour_of_day: Mapped[str] = mapped_column(String(2))
    day_of_week: Mapped[str] = mapped_column(String(1))


class SessionTokenRow(Base):
    """The authorization decision a session's token got: its group and source (the first
    event of the transaction that carried a token)."""

    __tablename__ = "session_tokens"

    #: "<station_id>:<transaction_id>", the session service's session id.
    session_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    token_source: Mapped[str] = mapped_column(String(64))


class EnergySiteBucketRow(Base):
    """A site's energy per 15-minute window, local hour and local day, summed over its EVSEs
    (kept with the windows, in the same transaction): a site's year by 15 minutes reads
    35,040 rows without a GROUP BY, by day 365, by month the same 365 grouped."""

    __tablename__ = "energy_site_buckets"
    __table_args__ = (
        Index("ix_energy_site_buckets_read", "site_id", "grain", "bucket_start", "wh", "label"),
    )

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: "15m", "hour" or "day".
    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: Epoch seconds (UTC) the bucket begins at.
    bucket_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    label: Mapped[str] = mapped_column(String(32))
    wh: Mapped[float] = mapped_column(Float)


class EnergyNetworkBucketRow(Base):
    """The network's energy per bucket start and local label, summed over every site: sites
    on one clock share a row, so the network's year by day reads 365 rows per time zone."""

    __tablename__ = "energy_network_buckets"
    __table_args__ = (
        Index("ix_energy_network_buckets_read", "grain", "bucket_start", "wh", "label"),
    )

    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The site-local label ("" for 15-minute windows, which the network labels in UTC).
    label: Mapped[str] = mapped_column(String(32), primary_key=True)
    wh: Mapped[float] = mapped_column(Float)


class StateChangeRow(Base):
    """One connector or station state change (docs/adr/016): the event id is the key, so a
    re-delivered event is one row; utilization and uptime are computed from these at query
    time, so a late event simply lands at its instant."""

    __tablename__ = "state_changes"
    __table_args__ = (
        Index("ix_state_changes_site_at", "site_id", "at_ms"),
        Index("ix_state_changes_station_at", "station_id", "evse_id", "at_ms"),
        Index("ix_state_changes_at", "at_ms"),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    #: 0 = the whole station (connectivity, a station-wide status).
    evse_id: Mapped[int] = mapped_column(Integer)
    site_id: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    #: Epoch milliseconds (UTC) of the change.
    at_ms: Mapped[int] = mapped_column(BigInteger)
    #: link (online/offline), status (a connector status), charge (charging/idle), tx.
    signal: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(32))
    transaction_id: Mapped[str] = mapped_column(String(64))
    #: The register at a transaction's start or end (signal tx), else null.
    wh: Mapped[float | None] = mapped_column(Float, nullable=True)


class UptimeExclusionRow(Base):
    """A period an operator excluded from uptime, for a site, a station or one EVSE."""

    __tablename__ = "uptime_exclusions"
    __table_args__ = (Index("ix_uptime_exclusions_start", "start_s"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str] = mapped_column(String(64))
    #: 0 = every EVSE of the station (or of the site).
    evse_id: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[int] = mapped_column(BigInteger)
    end_s: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500))


class StateStationRow(Base):
    """A station with state changes: up to when its `utilization_days` are exact. Ingest
    lowers `valid_until_ms` to the instant of any change it stores (a late one included);
    the next utilization query recomputes the days from the stored changes."""

    __tablename__ = "state_stations"
    __table_args__ = (Index("ix_state_stations_site", "site_id"),)

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    valid_until_ms: Mapped[int] = mapped_column(BigInteger)


class StatePortRow(Base):
    """A port's replay facts at its station's `valid_until_ms` (to resume from there)."""

    __tablename__ = "state_ports"

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link: Mapped[str] = mapped_column(String(32))
    station_status: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    charge: Mapped[str] = mapped_column(String(32))
    current: Mapped[str] = mapped_column(String(32))
    began_ms: Mapped[int] = mapped_column(BigInteger)
    site_id: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))


class UtilizationDayRow(Base):
    """Seconds per state of one port and closed local day, computed from the state changes
    (a cache of the replay, kept exact by `state_stations.valid_until_ms`)."""

    __tablename__ = "utilization_days"
    __table_args__ = (
        Index("ix_utilization_days_site_day", "site_id", "day_start_s"),
        Index("ix_utilization_days_day", "day_start_s"),
    )

    station_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_start_s: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month_start_s: Mapped[int] = mapped_column(BigInteger)
    site_id: Mapped[str] = mapped_column(String(64))
    label_day: Mapped[str] = mapped_column(String(10))
    label_month: Mapped[str] = mapped_column(String(7))
    charging_s: Mapped[float] = mapped_column(Float)
    occupied_s: Mapped[float] = mapped_column(Float)
    available_s: Mapped[float] = mapped_column(Float)
    unavailable_s: Mapped[float] = mapped_column(Float)
    faulted_s: Mapped[float] = mapped_column(Float)
    offline_s: Mapped[float] = mapped_column(Float)
