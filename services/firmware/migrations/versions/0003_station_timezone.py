"""station timezone and row version: each campaign station's site zone, for its maintenance
window; a version for optimistic locking of updates (runner vs. event consumer)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("station_updates") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        batch.add_column(sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("station_updates") as batch:
        batch.drop_column("row_version")
        batch.drop_column("timezone")
