"""Device-model reports (2.x NotifyReport) flattened into the gateway's key naming.

A report datum names a component and a variable, each with an optional instance, and lists
attributes; the registry keeps the Actual attribute (the one GetVariables returns by default)
as "Component[.instance]/Variable[.instance]". Components bound to an EVSE or connector get
"#<evse>[.<connector>]" after the component, so EVSE 1 and EVSE 2 do not overwrite each other.
"""

from __future__ import annotations

import json
from typing import Any

from chargegrid.stations.store.configuration import Reported

ACTUAL = "Actual"


def _named(part: Any) -> str:
    if not isinstance(part, dict) or not part.get("name"):
        return ""
    instance = part.get("instance")
    return f"{part['name']}.{instance}" if instance else str(part["name"])


def _component(component: Any) -> str:
    name = _named(component)
    evse = component.get("evse") if isinstance(component, dict) else None
    if name and isinstance(evse, dict) and "id" in evse:
        connector = evse.get("connectorId")
        return f"{name}#{evse['id']}" + (f".{connector}" if connector else "")
    return name


#: The names alerts and reports share ("Component[.instance]#evse", "Variable[.instance]").
component_name = _component
variable_name = _named


def _actual(attributes: Any) -> dict[str, Any] | None:
    if not isinstance(attributes, list):
        return None
    for attribute in attributes:
        if isinstance(attribute, dict) and attribute.get("type", ACTUAL) == ACTUAL:
            return attribute
    return None


def parse_notify_report(payload_json: str) -> list[Reported]:
    """The reported variables of one NotifyReport part; malformed data are skipped."""
    try:
        payload = json.loads(payload_json or "{}")
    except ValueError:
        return []
    data = payload.get("reportData") if isinstance(payload, dict) else None
    found: list[Reported] = []
    for datum in data if isinstance(data, list) else []:
        if not isinstance(datum, dict):
            continue
        component, variable = _component(datum.get("component")), _named(datum.get("variable"))
        attribute = _actual(datum.get("variableAttribute"))
        if not component or not variable or attribute is None:
            continue
        found.append(
            Reported(
                f"{component}/{variable}",
                str(attribute.get("value", "")),
                attribute.get("mutability") == "ReadOnly",
            )
        )
    return found
