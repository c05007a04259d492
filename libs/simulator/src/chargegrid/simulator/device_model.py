"""The OCPP 2.x device model: GetVariables, SetVariables and base reports.

Answers with the attribute statuses of the specification (UnknownComponent, UnknownVariable,
NotSupportedAttributeType, Rejected, RebootRequired) over the variables of
`device_variables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chargegrid.simulator.device_variables import Variable, standard_variables

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station


class DeviceModel:
    """The variables of one 2.x station."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.variables = standard_variables(station)

    def get(
        self, component: str, evse_id: int | None, name: str, instance: str | None, attribute: str
    ) -> tuple[str, str | None]:
        """(attributeStatus, value) for one GetVariableData entry."""
        found = self._find(component, evse_id, name, instance, attribute)
        if isinstance(found, str):
            return found, None
        if found.mutability == "WriteOnly":
            return "Rejected", None
        return "Accepted", found.read()

    def set(
        self,
        component: str,
        evse_id: int | None,
        name: str,
        instance: str | None,
        attribute: str,
        value: str,
    ) -> str:
        """attributeStatus for one SetVariableData entry."""
        found = self._find(component, evse_id, name, instance, attribute)
        if isinstance(found, str):
            return found
        if found.mutability == "ReadOnly" or not found.accepts(value):
            return "Rejected"
        if not callable(found.value):
            found.value = value
        if found.apply is not None:
            found.apply(value)
        return "RebootRequired" if found.reboot_required else "Accepted"

    def report(self, base: str) -> list[Variable] | None:
        """The variables a GetBaseReport covers; None for an unknown report base."""
        if base == "FullInventory":
            return list(self.variables)
        if base == "ConfigurationInventory":
            return [v for v in self.variables if v.mutability != "ReadOnly"]
        if base == "SummaryInventory":
            return [v for v in self.variables if v.name == "AvailabilityState"]
        return None

    def find(
        self, component: str, evse_id: int | None, name: str, instance: str | None
    ) -> Variable | str:
        """The variable, or UnknownComponent / UnknownVariable."""
        return self._find(component, evse_id, name, instance, "Actual")

    def _find(
        self, component: str, evse_id: int | None, name: str, instance: str | None, attribute: str
    ) -> Variable | str:
        if attribute != "Actual":
            return "NotSupportedAttributeType"
        in_component = [
            v for v in self.variables if v.component == component and v.evse_id == evse_id
        ]
        if not in_component:
            return "UnknownComponent"
        for variable in in_component:
            if variable.name == name and variable.instance == instance:
                return variable
        return "UnknownVariable"
