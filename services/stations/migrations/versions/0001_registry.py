"""registry: sites, stations, connectors, configuration, reported variables, processed events

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


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("city", sa.String(120), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("grid_limit_a", sa.Float, nullable=False),
        sa.Column("grid_phases", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "stations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "site_id",
            sa.String(64),
            sa.ForeignKey("sites.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("vendor", sa.String(50), nullable=False),
        sa.Column("model", sa.String(50), nullable=False),
        sa.Column("serial_number", sa.String(50), nullable=False),
        sa.Column("firmware_version", sa.String(50), nullable=False),
        sa.Column("ocpp_version", sa.Integer, nullable=False),
        sa.Column("security_profile", sa.Integer, nullable=False),
        sa.Column("registration_status", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("certificate_fingerprint", sa.String(64), nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("last_seen", TS, nullable=True),
        sa.Column("last_boot_reason", sa.String(40), nullable=False),
        sa.Column("last_boot_at", TS, nullable=True),
        sa.Column("heartbeat_interval_s", sa.Integer, nullable=False),
        sa.Column("gateway_pod", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_stations_site_id", "stations", ["site_id"])
    op.create_table(
        "connectors",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("connector_id", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("max_power_w", sa.Float, nullable=False),
        sa.Column("max_current_a", sa.Float, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("error_code", sa.String(50), nullable=False),
        sa.Column("info", sa.String(500), nullable=False),
        sa.Column("status_at", TS, nullable=True),
    )
    op.create_table(
        "desired_configuration",
        sa.Column("scope_kind", sa.String(16), primary_key=True),
        sa.Column("scope_value", sa.String(128), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "configuration_state",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("desired_value", sa.Text, nullable=False),
        sa.Column("reported_value", sa.Text, nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("applied_at", TS, nullable=True),
    )
    op.create_table(
        "reported_variables",
        sa.Column(
            "station_id",
            sa.String(64),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("readonly", sa.Boolean, nullable=False),
        sa.Column("reported_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reported_variables")
    op.drop_table("configuration_state")
    op.drop_table("desired_configuration")
    op.drop_table("connectors")
    op.drop_index("ix_stations_site_id", table_name="stations")
    op.drop_table("stations")
    op.drop_table("sites")
    op.drop_table("processed_events")
