"""roaming: commands and reservations kept across restarts, CDRs waiting for their token's
partner, and token uids keyed case-insensitively (OCPI CiString)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

#: Of tokens whose uids differ only in case, the newest stays (then the greatest uid).
DROP_CASE_DUPLICATES = """
DELETE FROM partner_tokens WHERE EXISTS (
    SELECT 1 FROM partner_tokens AS other
    WHERE other.country_code = partner_tokens.country_code
      AND other.party_id = partner_tokens.party_id
      AND other.type = partner_tokens.type
      AND upper(other.uid) = upper(partner_tokens.uid)
      AND (other.last_updated > partner_tokens.last_updated
           OR (other.last_updated = partner_tokens.last_updated
               AND other.uid > partner_tokens.uid)))
"""


def upgrade() -> None:
    op.execute(DROP_CASE_DUPLICATES)
    op.execute("UPDATE partner_tokens SET uid = upper(uid) WHERE uid <> upper(uid)")
    op.create_table(
        "roaming_commands",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False, index=True),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("request", sa.LargeBinary, nullable=False),
        sa.Column("response_url", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.String(32), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("answered_at", TS, nullable=True),
    )
    op.create_index("ix_roaming_commands_status", "roaming_commands", ["status"])
    op.create_table(
        "roaming_reservations",
        sa.Column("partner_id", sa.String(64), primary_key=True),
        sa.Column("reservation_id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("expiry", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "unowned_cdrs",
        sa.Column("cdr_id", sa.String(200), primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False, index=True),
        sa.Column("cdr", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("unowned_cdrs")
    op.drop_table("roaming_reservations")
    op.drop_table("roaming_commands")
