"""The layout rules of ARCHITECTURE.md, checked on every run.

`chargegrid` stays a PEP 420 namespace, services never import one another, and libraries
never import services: breaking one of these makes the services impossible to deploy apart.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").glob("*") if (p / "pyproject.toml").exists())


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _sources(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if ".venv" not in p.parts]


def test_no_chargegrid_init_anywhere() -> None:
    offenders = [
        p
        for base in ("libs", "services")
        for p in (ROOT / base).glob("*/src/chargegrid/__init__.py")
    ]
    assert offenders == []


def test_services_never_import_each_other() -> None:
    violations = []
    for service in SERVICES:
        others = {f"chargegrid.{name}" for name in SERVICES if name != service}
        for path in _sources(ROOT / "services" / service):
            for module in _imported_modules(path):
                if any(module == o or module.startswith(o + ".") for o in others):
                    violations.append(f"{path.relative_to(ROOT)} imports {module}")
    assert violations == []


def test_libraries_never_import_services() -> None:
    service_packages = {f"chargegrid.{name}" for name in SERVICES}
    violations = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources(ROOT / "libs")
        for module in _imported_modules(path)
        if any(module == s or module.startswith(s + ".") for s in service_packages)
    ]
    assert violations == []


def test_every_library_package_says_what_it_is_for() -> None:
    missing = [
        init.relative_to(ROOT)
        for init in (ROOT / "libs").glob("*/src/chargegrid/*/__init__.py")
        if ast.get_docstring(ast.parse(init.read_text())) is None
    ]
    assert missing == []
