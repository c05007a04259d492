"""Alembic env of the roaming service: its table metadata, run by the platform."""

from chargegrid.platform.migrations import run_env
from chargegrid.roaming.models import Base

run_env(Base.metadata)
