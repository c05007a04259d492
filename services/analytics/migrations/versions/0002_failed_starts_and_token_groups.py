"""analytics: refused authorizations (failed starts) and each session's token group and source

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refused_authorizations",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("id_token", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("label_day", sa.String(10), nullable=False),
        sa.Column("label_month", sa.String(7), nullable=False),
        sa.Column("hour_of_day", sa.String(2), nullable=False),
        sa.Column("day_of_week", sa.String(1), nullable=False),
    )
    op.create_index(
        "ix_refused_authorizations_site_at", "refused_authorizations", ["site_id", "at"]
    )
    op.create_index("ix_refused_authorizations_at", "refused_authorizations", ["at"])
    op.create_table(
        "session_tokens",
        sa.Column("session_id", sa.String(200), primary_key=True),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("token_source", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("session_tokens")
    op.drop_table("refused_authorizations")
