"""billing: tariffs, assignments, active sessions, session points, CDRs, outbox, processed events

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
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_table(
        "tariffs",
        sa.Column("tariff_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("vat_percent", sa.String(40), nullable=False),
        sa.Column("elements", sa.Text, nullable=False),
        sa.Column("effective_from", TS, nullable=False),
        sa.Column("display_text", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "tariff_assignments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tariff_id", sa.String(64), nullable=False, index=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_value", sa.String(128), nullable=False),
        sa.Column("effective_from", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_assignment_target", "tariff_assignments", ["target_kind", "target_value"])
    op.create_table(
        "active_sessions",
        sa.Column("session_id", sa.String(200), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False, index=True),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("id_token", sa.String(64), nullable=False),
        sa.Column("id_token_type", sa.String(32), nullable=False),
        sa.Column("token_group", sa.String(64), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "session_points",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(200), nullable=False, index=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("energy_wh", sa.String(40), nullable=False),
        sa.Column("charging_s", sa.BigInteger, nullable=False),
        sa.Column("power_w", sa.String(40), nullable=False),
    )
    op.create_table(
        "cdrs",
        sa.Column("seq", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("session_id", sa.String(200), nullable=False, unique=True),
        sa.Column("station_id", sa.String(64), nullable=False, index=True),
        sa.Column("site_id", sa.String(64), nullable=False, index=True),
        sa.Column("id_token", sa.String(64), nullable=False, index=True),
        sa.Column("id_token_type", sa.String(32), nullable=False),
        sa.Column("started_at", TS, nullable=False, index=True),
        sa.Column("ended_at", TS, nullable=False),
        sa.Column("energy_wh", sa.String(40), nullable=False),
        sa.Column("total_time_s", sa.BigInteger, nullable=False),
        sa.Column("charging_time_s", sa.BigInteger, nullable=False),
        sa.Column("parking_time_s", sa.BigInteger, nullable=False),
        sa.Column("cost", sa.Text, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "outbox",
        "cdrs",
        "session_points",
        "active_sessions",
        "tariff_assignments",
        "tariffs",
        "processed_events",
    ):
        op.drop_table(table)
