"""Alembic env of the energy service: its table metadata, run by the platform."""

from chargegrid.energy.models import Base
from chargegrid.platform.migrations import run_env

run_env(Base.metadata)
