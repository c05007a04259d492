"""Alembic env of the analytics service: its table metadata, run by the platform."""

from chargegrid.analytics.models import Base
from chargegrid.platform.migrations import run_env

run_env(Base.metadata)
