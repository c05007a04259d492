"""charging EVSEs: the energy register, and where it stood when the EV stated its need, so
the deadline policy counts only the energy still to deliver

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
    with op.batch_alter_table("charging_evses") as batch:
        batch.add_column(sa.Column("energy_register_wh", sa.Float, nullable=True))
        batch.add_column(sa.Column("needs_register_wh", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("charging_evses") as batch:
        batch.drop_column("needs_register_wh")
        batch.drop_column("energy_register_wh")
