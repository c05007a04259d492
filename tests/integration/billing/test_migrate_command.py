"""`python -m chargegrid.billing migrate` (the Helm migration Job) migrates and exits 0."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_migrate_creates_the_tables_and_exits(tmp_path: Path) -> None:
    database = tmp_path / "billing.db"
    env = {**os.environ, "CHARGEGRID_BILLING_DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "-m", "chargegrid.billing", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    tables = {
        row[0]
        for row in sqlite3.connect(database).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"tariffs", "tariff_assignments", "cdrs", "outbox", "processed_events"} <= tables
