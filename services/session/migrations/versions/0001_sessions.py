"""sessions, meter samples, transaction ids, outbox, processed events

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
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("id_token", sa.String(255), nullable=False),
        sa.Column("id_token_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("meter_start_wh", sa.Float, nullable=True),
        sa.Column("meter_stop_wh", sa.Float, nullable=True),
        sa.Column("energy_wh", sa.Float, nullable=False),
        sa.Column("peak_power_w", sa.Float, nullable=False),
        sa.Column("charging_s", sa.Float, nullable=False),
        sa.Column("stop_reason", sa.String(64), nullable=False),
        sa.Column("power_w", sa.Float, nullable=False),
        sa.Column("power_at", TS, nullable=True),
        sa.Column("soc_percent", sa.Float, nullable=False),
        sa.Column("soc_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("offline_data", sa.Boolean, nullable=False),
        sa.Column("started_seen", sa.Boolean, nullable=False),
        sa.Column("ended_seen", sa.Boolean, nullable=False),
        sa.Column("last_register_at", TS, nullable=True),
        sa.Column("last_register_wh", sa.Float, nullable=True),
        sa.Column("last_observed_at", TS, nullable=True),
        sa.Column("last_observed_charging", sa.Boolean, nullable=False),
        sa.Column("opened_emitted", sa.Boolean, nullable=False),
        sa.Column("closed_emitted", sa.Boolean, nullable=False),
        sa.Column("last_emitted_at", TS, nullable=True),
    )
    op.create_index("ix_sessions_status_started", "sessions", ["status", "started_at"])
    op.create_index("ix_sessions_station_status", "sessions", ["station_id", "status"])
    op.create_index("ix_sessions_started", "sessions", ["started_at", "id"])
    op.create_index("ix_sessions_site_id", "sessions", ["site_id"])
    op.create_index("ix_sessions_id_token", "sessions", ["id_token"])
    op.create_table(
        "meter_samples",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "session_id",
            sa.String(200),
            sa.ForeignKey("sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("timestamp", TS, nullable=False),
        sa.Column("measurand", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(8), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("context", sa.String(32), nullable=False),
        sa.Column("location", sa.String(16), nullable=False),
        sa.UniqueConstraint(
            "session_id", "timestamp", "measurand", "phase", "location", name="uq_sample_reading"
        ),
    )
    op.create_table(
        "transaction_ids",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("allocated_at", TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("transaction_ids")
    op.drop_table("meter_samples")
    op.drop_index("ix_sessions_id_token", table_name="sessions")
    op.drop_index("ix_sessions_site_id", table_name="sessions")
    op.drop_index("ix_sessions_started", table_name="sessions")
    op.drop_index("ix_sessions_station_status", table_name="sessions")
    op.drop_index("ix_sessions_status_started", table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("processed_events")
