"""OCPI modules: one file each, exposing `MODULE` (a `chargegrid.roaming.ocpi.registry.Module`).

`build_modules` lists them; the HTTP app mounts each at /ocpi/2.2.1/<identifier>.
"""

from __future__ import annotations

import importlib

from chargegrid.roaming.ocpi.registry import Module, ModuleRegistry

#: Module files, in the order our version details list them. A name whose file does not
#: exist yet (another branch adds it) is skipped, so the list can name it ahead.
MODULE_FILES = (
    "credentials",
    "locations",
    "tariffs",
    "sessions",
    "cdrs",
    "tokens",
    "commands",
)


def build_modules(names: tuple[str, ...] = MODULE_FILES) -> ModuleRegistry:
    registry = ModuleRegistry()
    for name in names:
        try:
            found = importlib.import_module(f"chargegrid.roaming.modules.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"chargegrid.roaming.modules.{name}":
                raise
            continue
        module: Module = found.MODULE
        registry.add(module)
    return registry
