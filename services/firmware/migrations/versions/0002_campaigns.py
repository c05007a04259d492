"""campaigns: fleet updates over station_updates

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("image_id", sa.String(64), nullable=False),
        sa.Column("target_json", sa.Text, nullable=False),
        sa.Column("max_in_flight", sa.Integer, nullable=False),
        sa.Column("window_start", sa.String(5), nullable=False),
        sa.Column("window_end", sa.String(5), nullable=False),
        sa.Column("retries", sa.Integer, nullable=False),
        sa.Column("retry_interval_s", sa.Integer, nullable=False),
        sa.Column("install_at", TS, nullable=True),
        sa.Column("force", sa.Boolean, nullable=False),
        sa.Column("station_timeout_s", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_station_updates_campaign", "station_updates", ["campaign_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_station_updates_campaign", "station_updates")
    op.drop_table("campaigns")
