"""Alembic env of the billing service: its table metadata, run by the platform."""

from chargegrid.billing.models import Base
from chargegrid.platform.migrations import run_env

run_env(Base.metadata)
