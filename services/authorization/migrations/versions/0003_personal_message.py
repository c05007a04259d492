"""tokens carry a personal message and the driver's language (2.0.1 idTokenInfo)

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
    op.add_column(
        "tokens", sa.Column("personal_message", sa.Text, nullable=False, server_default="")
    )
    op.add_column("tokens", sa.Column("language", sa.String(8), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as table:
        table.drop_column("language")
        table.drop_column("personal_message")
