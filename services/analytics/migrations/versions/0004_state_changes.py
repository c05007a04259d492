"""analytics: connector state changes and uptime exclusions (utilization, uptime, status)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_changes",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("signal", sa.String(16), nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=False),
        sa.Column("wh", sa.Float, nullable=True),
    )
    op.create_index("ix_state_changes_site_at", "state_changes", ["site_id", "at_ms"])
    op.create_index(
        "ix_state_changes_station_at", "state_changes", ["station_id", "evse_id", "at_ms"]
    )
    op.create_index("ix_state_changes_at", "state_changes", ["at_ms"])
    op.create_table(
        "uptime_exclusions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("start_s", sa.BigInteger, nullable=False),
        sa.Column("end_s", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
    )
    op.create_index("ix_uptime_exclusions_start", "uptime_exclusions", ["start_s"])
    op.create_table(
        "state_stations",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("valid_until_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_state_stations_site", "state_stations", ["site_id"])
    op.create_table(
        "state_ports",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        *[
            sa.Column(name, sa.String(32), nullable=False)
            for name in ("link", "station_status", "status", "charge", "current")
        ],
        sa.Column("began_ms", sa.BigInteger, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
    )
    op.create_table(
        "utilization_days",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("day_start_s", sa.BigInteger, primary_key=True),
        sa.Column("month_start_s", sa.BigInteger, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("label_day", sa.String(10), nullable=False),
        sa.Column("label_month", sa.String(7), nullable=False),
        *[
            sa.Column(f"{state}_s", sa.Float, nullable=False)
            for state in ("charging", "occupied", "available", "unavailable", "faulted", "offline")
        ],
    )
    op.create_index("ix_utilization_days_site_day", "utilization_days", ["site_id", "day_start_s"])
    op.create_index("ix_utilization_days_day", "utilization_days", ["day_start_s"])


def downgrade() -> None:
    op.drop_index("ix_utilization_days_day", table_name="utilization_days")
    op.drop_index("ix_utilization_days_site_day", table_name="utilization_days")
    op.drop_table("utilization_days")
    op.drop_table("state_ports")
    op.drop_index("ix_state_stations_site", table_name="state_stations")
    op.drop_table("state_stations")
    op.drop_index("ix_uptime_exclusions_start", table_name="uptime_exclusions")
    op.drop_table("uptime_exclusions")
    op.drop_index("ix_state_changes_at", table_name="state_changes")
    op.drop_index("ix_state_changes_station_at", table_name="state_changes")
    op.drop_index("ix_state_changes_site_at", table_name="state_changes")
    op.drop_table("state_changes")
