"""roaming: partners' tokens (tokens receiver), their sessions and CDRs (senders)

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
        "partner_tokens",
        sa.Column("country_code", sa.String(2), primary_key=True),
        sa.Column("party_id", sa.String(3), primary_key=True),
        sa.Column("uid", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(16), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("whitelist", sa.String(16), nullable=False),
        sa.Column("group_id", sa.String(36), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("last_updated", TS, nullable=False),
    )
    op.create_index("ix_partner_tokens_uid", "partner_tokens", ["uid"])
    op.create_index("ix_partner_tokens_last_updated", "partner_tokens", ["last_updated"])
    op.create_table(
        "roaming_sessions",
        sa.Column("session_id", sa.String(200), primary_key=True),
        sa.Column("ocpi_id", sa.String(36), nullable=False, index=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("pushed", sa.Text, nullable=False),
        sa.Column("pushed_at", TS, nullable=False),
        sa.Column("last_updated", TS, nullable=False, index=True),
    )
    op.create_table(
        "roaming_cdrs",
        sa.Column("cdr_id", sa.String(200), primary_key=True),
        sa.Column("ocpi_id", sa.String(39), nullable=False, index=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("last_updated", TS, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("roaming_cdrs")
    op.drop_table("roaming_sessions")
    op.drop_table("partner_tokens")
