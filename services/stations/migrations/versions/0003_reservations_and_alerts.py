"""reservations (ReserveNow made by the registry) and alerts (2.x NotifyEvent)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _station_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "station_id", sa.String(64), sa.ForeignKey("stations.id", ondelete="CASCADE"),
        nullable=False,
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _station_fk(),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("id_token", sa.String(36), nullable=False),
        sa.Column("token_type", sa.String(20), nullable=False),
        sa.Column("group_id_token", sa.String(36), nullable=False),
        sa.Column("expiry", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_station_answer", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_reservations_station_id", "reservations", ["station_id", "id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _station_fk(),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("variable", sa.String(200), nullable=False),
        sa.Column("actual_value", sa.String(2500), nullable=False),
        sa.Column("cleared", sa.Boolean, nullable=False),
        sa.Column("tech_code", sa.String(50), nullable=False),
        sa.Column("tech_info", sa.String(500), nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
        sa.Column("variable_monitoring_id", sa.Integer, nullable=False),
        sa.Column("event_notification_type", sa.String(32), nullable=False),
        sa.Column("cause", sa.Integer, nullable=False),
    )
    op.create_index("ix_alerts_station_id", "alerts", ["station_id", "id"])
    op.create_index(
        "uq_alerts_event", "alerts", ["station_id", "event_id", "occurred_at"], unique=True
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("reservations")
