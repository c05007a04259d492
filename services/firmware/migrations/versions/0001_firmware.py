"""firmware: images, station updates, log files, security events, processed events

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
        "images",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("vendor", sa.String(50), nullable=False),
        sa.Column("model", sa.String(50), nullable=False),
        sa.Column("location", sa.String(512), nullable=False),
        sa.Column("signing_certificate", sa.Text, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_images_vendor_model", "images", ["vendor", "model"])
    op.create_table(
        "station_updates",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("image_id", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("location", sa.String(512), nullable=False),
        sa.Column("expected_version", sa.String(50), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("booted_version", sa.String(50), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_station_updates_station", "station_updates", ["station_id", "created_at"])
    op.create_table(
        "log_files",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("upload_token", sa.String(64), nullable=False, unique=True),
        sa.Column("token_used", sa.Boolean, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stored_path", sa.String(512), nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("uploaded_at", TS, nullable=True),
    )
    op.create_index("ix_log_files_station", "log_files", ["station_id", "request_id"])
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("tech_info", sa.Text, nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
    )
    op.create_index("ix_security_events_station", "security_events", ["station_id", "occurred_at"])


def downgrade() -> None:
    op.drop_table("security_events")
    op.drop_table("log_files")
    op.drop_table("station_updates")
    op.drop_table("images")
    op.drop_table("processed_events")
