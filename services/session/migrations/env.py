"""Alembic env of the session service: its table metadata, run by the platform."""

from chargegrid.platform.migrations import run_env
from chargegrid.session.models import Base

run_env(Base.metadata)
