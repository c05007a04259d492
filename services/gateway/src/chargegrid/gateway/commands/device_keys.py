"""The neutral device-model key "Component[.instance]/Variable[.instance]" and its 2.x JSON
form ({"component": {...}, "variable": {...}}), shared by variables and monitors."""

from __future__ import annotations

from typing import Any

from chargegrid.gateway.commands.translation import InvalidCommand

MALFORMED = (
    "malformed key {key!r}: 2.x keys are Component/Variable, each with an optional .instance"
)


def _part(text: str, key: str) -> dict[str, Any]:
    name, dot, instance = text.partition(".")
    if not name or (dot and not instance):
        raise InvalidCommand(MALFORMED.format(key=key))
    return {"name": name, "instance": instance} if instance else {"name": name}


def variable_of(key: str) -> dict[str, Any]:
    component, slash, variable = key.partition("/")
    if not slash or "/" in variable:
        raise InvalidCommand(MALFORMED.format(key=key))
    return {"component": _part(component, key), "variable": _part(variable, key)}


def key_of(result: dict[str, Any]) -> str:
    def text(part: dict[str, Any]) -> str:
        instance = part.get("instance")
        return f"{part['name']}.{instance}" if instance else str(part["name"])

    return f"{text(result['component'])}/{text(result['variable'])}"
