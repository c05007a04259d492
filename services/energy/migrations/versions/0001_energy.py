"""energy: circuits, site and station settings, priorities, DR events, charging EVSEs,
station states, allocation history, processed events

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_table(
        "circuits",
        sa.Column("site_id", ID, primary_key=True),
        sa.Column("id", ID, primary_key=True),
        sa.Column("parent_id", ID, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("limit_l1_a", sa.Float, nullable=False),
        sa.Column("limit_l2_a", sa.Float, nullable=False),
        sa.Column("limit_l3_a", sa.Float, nullable=False),
        sa.Column("limit_kw", sa.Float, nullable=False),
        sa.Column("nominal_voltage_v", sa.Float, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "site_settings",
        sa.Column("site_id", ID, primary_key=True),
        sa.Column("operator_limit_a", sa.Float, nullable=False),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "station_settings",
        sa.Column("station_id", ID, primary_key=True),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("node_id", ID, nullable=False),
        sa.Column("max_current_a", sa.Float, nullable=False),
        sa.Column("min_current_a", sa.Float, nullable=False),
        sa.Column("phases", sa.Integer, nullable=False),
        sa.Column("rotation", sa.String(16), nullable=False),
        sa.Column("offline_fallback_a", sa.Float, nullable=False),
    )
    op.create_index("ix_station_settings_site_id", "station_settings", ["site_id"])
    op.create_table(
        "group_priorities",
        sa.Column("group_id", ID, primary_key=True),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
    )
    op.create_table(
        "demand_responses",
        sa.Column("id", ID, primary_key=True),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_demand_responses_site", "demand_responses", ["site_id", "starts_at"])
    op.create_table(
        "charging_evses",
        sa.Column("station_id", ID, primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("id_token", ID, nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("measured_l1_a", sa.Float, nullable=True),
        sa.Column("measured_l2_a", sa.Float, nullable=True),
        sa.Column("measured_l3_a", sa.Float, nullable=True),
        sa.Column("measured_at", TS, nullable=True),
        sa.Column("departure_at", TS, nullable=True),
        sa.Column("energy_needed_wh", sa.Float, nullable=True),
        sa.Column("ev_max_current_a", sa.Float, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_charging_evses_site_id", "charging_evses", ["site_id"])
    op.create_index(
        "ix_charging_evses_transaction", "charging_evses", ["station_id", "transaction_id"]
    )
    op.create_table(
        "station_states",
        sa.Column("station_id", ID, primary_key=True),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("ocpp_version", sa.String(8), nullable=False),
        sa.Column("booted_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "allocations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("trigger", sa.String(128), nullable=False),
        sa.Column("limit_l1_a", sa.Float, nullable=False),
        sa.Column("limit_l2_a", sa.Float, nullable=False),
        sa.Column("limit_l3_a", sa.Float, nullable=False),
        sa.Column("evses_json", sa.Text, nullable=False),
    )
    op.create_index("ix_allocations_site", "allocations", ["site_id", "id"])


def downgrade() -> None:
    for table in (
        "allocations",
        "station_states",
        "charging_evses",
        "demand_responses",
        "group_priorities",
        "station_settings",
        "site_settings",
        "circuits",
        "processed_events",
    ):
        op.drop_table(table)
