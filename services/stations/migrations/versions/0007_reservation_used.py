"""reservations.transaction_id: the transaction that used a reservation (status Used, H03)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(
            sa.Column("transaction_id", sa.String(36), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("transaction_id")
