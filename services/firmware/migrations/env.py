"""Alembic env of the firmware service: its table metadata, run by the platform."""

from chargegrid.firmware.models import Base
from chargegrid.platform.migrations import run_env

run_env(Base.metadata)
