"""station_reports: NotifyDisplayMessages and NotifyMonitoringReport parts, by request id

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "station_reports",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("action", sa.String(32), primary_key=True),
        sa.Column("request_id", sa.Integer, primary_key=True),
        sa.Column("seq_no", sa.Integer, primary_key=True),
        sa.Column("tbc", sa.Boolean, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("station_reports")
