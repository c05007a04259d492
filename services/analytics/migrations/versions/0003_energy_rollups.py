"""analytics: energy per site and per network bucket (15m, hour, day), filled from the windows

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# What ingest keeps, computed once from the tables it kept so far.
BACKFILL = [
    "INSERT INTO energy_site_buckets (site_id, grain, bucket_start, label, wh)"
    " SELECT site_id, '15m', window_start, MIN(label_quarter), SUM(wh)"
    " FROM energy_windows GROUP BY site_id, window_start",
    "INSERT INTO energy_site_buckets (site_id, grain, bucket_start, label, wh)"
    " SELECT site_id, 'hour', hour_start, MIN(label_hour), SUM(wh)"
    " FROM energy_hours GROUP BY site_id, hour_start",
    "INSERT INTO energy_site_buckets (site_id, grain, bucket_start, label, wh)"
    " SELECT site_id, 'day', day_start, MIN(label_day), SUM(wh)"
    " FROM energy_days GROUP BY site_id, day_start",
    "INSERT INTO energy_network_buckets (grain, bucket_start, label, wh)"
    " SELECT '15m', window_start, '', SUM(wh) FROM energy_windows GROUP BY window_start",
    "INSERT INTO energy_network_buckets (grain, bucket_start, label, wh)"
    " SELECT 'hour', hour_start, label_hour, SUM(wh)"
    " FROM energy_hours GROUP BY hour_start, label_hour",
    "INSERT INTO energy_network_buckets (grain, bucket_start, label, wh)"
    " SELECT 'day', day_start, label_day, SUM(wh) FROM energy_days GROUP BY day_start, label_day",
]


def upgrade() -> None:
    op.create_table(
        "energy_site_buckets",
        sa.Column("site_id", sa.String(64), primary_key=True),
        sa.Column("grain", sa.String(8), primary_key=True),
        sa.Column("bucket_start", sa.BigInteger, primary_key=True),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("wh", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_energy_site_buckets_read",
        "energy_site_buckets",
        ["site_id", "grain", "bucket_start", "wh", "label"],
    )
    op.create_table(
        "energy_network_buckets",
        sa.Column("grain", sa.String(8), primary_key=True),
        sa.Column("bucket_start", sa.BigInteger, primary_key=True),
        sa.Column("label", sa.String(32), primary_key=True),
        sa.Column("wh", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_energy_network_buckets_read",
        "energy_network_buckets",
        ["grain", "bucket_start", "wh", "label"],
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("energy_network_buckets")
    op.drop_table("energy_site_buckets")
