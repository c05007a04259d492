"""outlet marks: the newest boot / Available / Faulted per station outlet

A session whose start is handled after the fact that ended it (the station topic and the
transaction topic are not ordered with one another) is closed from these.

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
        "outlet_marks",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("swept", sa.Boolean, nullable=False),
    )
    op.create_index("ix_outlet_marks_swept_noted_at", "outlet_marks", ["swept", "noted_at"])


def downgrade() -> None:
    op.drop_index("ix_outlet_marks_swept_noted_at", "outlet_marks")
    op.drop_table("outlet_marks")
