"""Alembic env of the stations service: its table metadata, run by the platform."""

from chargegrid.platform.migrations import run_env
from chargegrid.stations.models import Base

run_env(Base.metadata)
