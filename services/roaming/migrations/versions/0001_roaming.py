"""roaming: partners, outbox, locations, evses, evse status, tariffs, processed events

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
        "partners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country_code", sa.String(2), nullable=False),
        sa.Column("party_id", sa.String(3), nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("allowed_modules", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("versions_url", sa.String(1000), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("endpoints", sa.Text, nullable=False),
        sa.Column("token_a_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("their_token", sa.String(512), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("module", sa.String(32), nullable=False),
        sa.Column("object_key", sa.String(200), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "id"])
    op.create_table(
        "locations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("last_updated", TS, nullable=False, index=True),
    )
    op.create_table(
        "evses",
        sa.Column("uid", sa.String(36), primary_key=True),
        sa.Column("location_id", sa.String(36), nullable=False, index=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_updated", TS, nullable=False),
    )
    op.create_index("ix_evses_station", "evses", ["station_id", "evse_id"], unique=True)
    op.create_table(
        "evse_status",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "tariffs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("last_updated", TS, nullable=False, index=True),
        sa.Column("active", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "tariffs",
        "evse_status",
        "evses",
        "locations",
        "outbox",
        "partners",
        "processed_events",
    ):
        op.drop_table(table)
