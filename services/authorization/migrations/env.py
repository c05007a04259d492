"""Alembic env of the authorization service: the shared runner with our tables."""

from chargegrid.authorization.models import metadata
from chargegrid.platform.migrations import run_env

run_env(metadata)
