"""analytics: meter readings, energy windows, hours and days, CDR revenue, processed events

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_table(
        "meter_readings",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("transaction_id", sa.String(64), primary_key=True),
        sa.Column("at", TS, primary_key=True),
        sa.Column("rank", sa.Integer, primary_key=True),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("wh", sa.Float, nullable=False),
    )
    op.create_table(
        "energy_windows",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("label_quarter", sa.String(32), nullable=False),
        sa.Column("label_hour", sa.String(32), nullable=False),
        sa.Column("label_day", sa.String(10), nullable=False),
        sa.Column("label_month", sa.String(7), nullable=False),
        sa.Column("wh", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_energy_windows_site_window",
        "energy_windows",
        ["site_id", "window_start", "wh", "label_quarter"],
    )
    op.create_index("ix_energy_windows_window", "energy_windows", ["window_start"])
    op.create_table(
        "energy_hours",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("hour_start", sa.BigInteger, primary_key=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("label_hour", sa.String(32), nullable=False),
        sa.Column("wh", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_energy_hours_site_hour", "energy_hours", ["site_id", "hour_start", "wh", "label_hour"]
    )
    op.create_index("ix_energy_hours_hour", "energy_hours", ["hour_start"])
    op.create_table(
        "energy_days",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("day_start", sa.BigInteger, primary_key=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("label_day", sa.String(10), nullable=False),
        sa.Column("label_month", sa.String(7), nullable=False),
        sa.Column("wh", sa.Float, nullable=False),
    )
    op.create_index("ix_energy_days_site_day", "energy_days", ["site_id", "day_start"])
    op.create_index("ix_energy_days_day", "energy_days", ["day_start"])
    op.create_table(
        "revenue_cdrs",
        sa.Column("cdr_id", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("label_day", sa.String(10), nullable=False),
        sa.Column("label_month", sa.String(7), nullable=False),
        sa.Column("tariff_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("excl_vat_micros", sa.BigInteger, nullable=False),
        sa.Column("incl_vat_micros", sa.BigInteger, nullable=False),
        sa.Column("energy_wh", sa.Float, nullable=False),
    )
    op.create_index("ix_revenue_site_started", "revenue_cdrs", ["site_id", "started_at"])
    op.create_table(
        "closed_sessions",
        sa.Column("session_id", sa.String(200), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("id_token", sa.String(255), nullable=False),
        sa.Column("token_type", sa.String(32), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("duration_s", sa.BigInteger, nullable=False),
        sa.Column("idle_s", sa.BigInteger, nullable=False),
        sa.Column("energy_wh", sa.Float, nullable=False),
        sa.Column("no_energy", sa.Integer, nullable=False),
        sa.Column("label_day", sa.String(10), nullable=False),
        sa.Column("label_month", sa.String(7), nullable=False),
        sa.Column("hour_of_day", sa.String(2), nullable=False),
        sa.Column("day_of_week", sa.String(1), nullable=False),
    )
    op.create_index("ix_closed_sessions_site_started", "closed_sessions", ["site_id", "started_at"])
    op.create_index("ix_closed_sessions_started", "closed_sessions", ["started_at"])
    op.create_index("ix_closed_sessions_token", "closed_sessions", ["id_token", "started_at"])
    op.create_table(
        "service_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_state")
    op.drop_table("closed_sessions")
    op.drop_table("revenue_cdrs")
    op.drop_table("energy_days")
    op.drop_table("energy_hours")
    op.drop_table("energy_windows")
    op.drop_table("meter_readings")
    op.drop_table("processed_events")
