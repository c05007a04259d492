"""issued_certificates: what the CSMS CA signed for each station, for expiry and renewal

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "issued_certificates",
        sa.Column("serial", sa.String(64), primary_key=True),
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("certificate_type", sa.String(40), nullable=False),
        sa.Column("not_before", TS, nullable=False),
        sa.Column("not_after", TS, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("certificate_pem", sa.Text, nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("renewal_requested_at", TS, nullable=True),
        sa.Column("superseded", sa.Boolean, nullable=False),
    )
    op.create_index("ix_issued_certificates_station_id", "issued_certificates", ["station_id"])
    op.create_index("ix_issued_certificates_not_after", "issued_certificates", ["not_after"])


def downgrade() -> None:
    op.drop_table("issued_certificates")
