"""tokens, active transactions, local lists and their syncs, decision audit, processed events

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(255)
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("id_token", ID, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("owner_ref", ID, nullable=False),
        sa.Column("allowed_site_ids", sa.Text, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("id_token", "type", name="uq_tokens_id_token_type"),
    )
    op.create_index("ix_tokens_updated_at", "tokens", ["updated_at"])
    op.create_index("ix_tokens_group_id", "tokens", ["group_id"])
    op.create_index("ix_tokens_owner_ref", "tokens", ["owner_ref"])

    op.create_table(
        "active_transactions",
        sa.Column("station_id", ID, primary_key=True),
        sa.Column("transaction_id", ID, primary_key=True),
        sa.Column("id_token", ID, nullable=False),
        sa.Column("ended", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_active_transactions_updated_at", "active_transactions", ["updated_at"])
    op.create_index("ix_active_transactions_id_token", "active_transactions", ["id_token"])

    op.create_table(
        "local_lists",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("scope_kind", sa.String(8), nullable=False),
        sa.Column("scope_id", ID, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("scope_kind", "scope_id", name="uq_local_lists_scope"),
    )
    op.create_table(
        "local_list_entries",
        sa.Column(
            "list_id",
            AUTO_ID,
            sa.ForeignKey("local_lists.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("id_token", ID, primary_key=True),
        sa.Column("type", sa.String(32), primary_key=True),
    )
    op.create_index("ix_local_list_entries_token", "local_list_entries", ["id_token", "type"])

    op.create_table(
        "local_list_syncs",
        sa.Column("station_id", ID, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("update_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=True),
        sa.Column("acked_version", sa.Integer, nullable=False),
        sa.Column("acked_entries", sa.Text, nullable=True),
    )

    op.create_table(
        "decisions",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("station_id", ID, nullable=False),
        sa.Column("id_token", ID, nullable=False),
        sa.Column("token_type", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
    )
    op.create_index("ix_decisions_station_id", "decisions", ["station_id", "id"])
    op.create_index("ix_decisions_id_token", "decisions", ["id_token", "id"])
    op.create_index("ix_decisions_at", "decisions", ["at"])

    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_decisions_at", table_name="decisions")
    op.drop_index("ix_decisions_id_token", table_name="decisions")
    op.drop_index("ix_decisions_station_id", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("local_list_syncs")
    op.drop_index("ix_local_list_entries_token", table_name="local_list_entries")
    op.drop_table("local_list_entries")
    op.drop_table("local_lists")
    op.drop_index("ix_active_transactions_id_token", table_name="active_transactions")
    op.drop_index("ix_active_transactions_updated_at", table_name="active_transactions")
    op.drop_table("active_transactions")
    op.drop_index("ix_tokens_owner_ref", table_name="tokens")
    op.drop_index("ix_tokens_group_id", table_name="tokens")
    op.drop_index("ix_tokens_updated_at", table_name="tokens")
    op.drop_table("tokens")
