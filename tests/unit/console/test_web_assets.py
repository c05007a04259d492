"""The dashboard's static files: offline (nothing from another origin), every ES module import
resolves to a file in the package, and the vendored chart library is the one VENDORED.md names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import chargegrid.console

WEB = Path(next(iter(chargegrid.console.__path__))) / "web"
IMPORT = re.compile(r"""(?:import\s[^'"]*?from\s*|import\(\s*)["']([^"']+)["']""")


def _sources() -> list[Path]:
    return [
        p
        for p in WEB.rglob("*")
        if p.suffix in {".js", ".html", ".css"} and "vendor" not in p.parts
    ]


def test_the_dashboard_loads_nothing_from_another_origin() -> None:
    offenders = [
        str(p)
        for p in _sources()
        if re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", p.read_text())
    ]
    assert offenders == []


def test_every_module_import_resolves_to_a_file_in_the_package() -> None:
    missing, seen = [], 0
    for module in WEB.rglob("*.js"):
        if "vendor" in module.parts:
            continue
        for target in IMPORT.findall(module.read_text()):
            seen += 1
            if not (module.parent / target).resolve().is_file():
                missing.append(f"{module.name}: {target}")
    assert missing == []
    assert seen >= 30, "the import pattern stopped matching the modules"
    assert len(list((WEB / "js" / "pages").glob("*.js"))) == 10


def test_the_vendored_chart_library_matches_its_recorded_checksum() -> None:
    recorded = (WEB / "vendor" / "VENDORED.md").read_text()
    digest = hashlib.sha256((WEB / "vendor" / "chart.umd.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in recorded
    assert (WEB / "vendor" / "LICENSE.md").read_text().startswith("The MIT License")
