"""transaction id blocks: 1.6 transaction ids reserved a block per round trip

The id counter becomes one row, advanced by a block at a time, instead of a row inserted per
id. It starts above every id the old table handed out (its autoincrement or sequence, which
never went back), so an id is never given twice across the upgrade; a downgrade leaves the
old table's counter at the block counter for the same reason.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COUNTER = "ocpp16"


def _old_counter_next() -> int:
    """The first id the old table would have handed out next."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        found = bind.scalar(
            sa.text("SELECT nextval(pg_get_serial_sequence('transaction_ids', 'id'))")
        )
        return int(found)
    seq = bind.scalar(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'transaction_ids'"))
    return int(seq or 0) + 1


def upgrade() -> None:
    first = _old_counter_next()
    blocks = op.create_table(
        "transaction_id_blocks",
        sa.Column("counter", sa.String(32), primary_key=True),
        sa.Column("next_id", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(blocks, [{"counter": COUNTER, "next_id": first}])
    op.drop_table("transaction_ids")


def downgrade() -> None:
    bind = op.get_bind()
    next_id = bind.scalar(
        sa.text("SELECT next_id FROM transaction_id_blocks WHERE counter = :c"), {"c": COUNTER}
    )
    op.create_table(
        "transaction_ids",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    last = int(next_id or 1) - 1
    if last > 0:  # the old counter continues above every id a block handed out
        if bind.dialect.name == "postgresql":
            bind.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('transaction_ids', 'id'), :n)"),
                {"n": last},
            )
        else:  # SQLite lets its AUTOINCREMENT counter be set like any row
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('transaction_ids', :n)"),
                {"n": last},
            )
    op.drop_table("transaction_id_blocks")
