"""per-token concurrency limit; transactions in progress from session.events.v1

Tokens get `max_concurrent_transactions` (0 = the group's, else one). Transactions in
progress now mirror the session service's sessions, with the EVSE each runs on; the rows
guessed from transaction events are dropped (they held cards whose transactions the
stations had lost) and the consumer rebuilds them from session.events.v1.

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
    op.add_column(
        "tokens",
        sa.Column("max_concurrent_transactions", sa.Integer, nullable=False, server_default="0"),
    )
    op.execute("DELETE FROM active_transactions")
    op.add_column(
        "active_transactions",
        sa.Column("evse_id", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("active_transactions") as table:
        table.drop_column("evse_id")
    with op.batch_alter_table("tokens") as table:
        table.drop_column("max_concurrent_transactions")
