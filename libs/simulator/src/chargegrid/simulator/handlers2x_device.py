"""OCPP 2.x device-model calls: GetVariables, SetVariables and GetBaseReport.

A base report is answered at once and delivered afterwards as NotifyReport pages, the way
the specification has stations do it.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OccurrenceConstraintViolationError
from websockets.asyncio.client import ClientConnection

from chargegrid.simulator.device_variables import Variable
from chargegrid.simulator.link import OfflineError
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.routing import on

if TYPE_CHECKING:
    from chargegrid.simulator.station201 import Station201


def _evse_of(component: dict[str, Any]) -> int | None:
    evse = component.get("evse")
    return int(evse["id"]) if evse else None


class DeviceModel2x(Outbound2x):
    """The station's variables, as the CSMS reads, writes and inventories them."""

    def __init__(self, station: Station201, connection: ClientConnection) -> None:
        super().__init__(station, connection)
        self.device_model = station.device_model

    def _check_items(self, action: str, count: int) -> None:
        """B05/B06: more entries than ItemsPerMessage is refused (OccurrenceConstraintViolation)."""
        limit = self.device_model.find("DeviceDataCtrlr", None, "ItemsPerMessage", action)
        if not isinstance(limit, str) and count > int(limit.read()):
            raise OccurrenceConstraintViolationError(
                description=f"{count} entries, ItemsPerMessage {action} is {limit.read()}"
            )

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        self._check_items("GetVariables", len(get_variable_data))
        results = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            attribute = item.get("attribute_type", "Actual")
            status, value = self.device_model.get(
                component["name"],
                _evse_of(component),
                variable["name"],
                variable.get("instance"),
                attribute,
            )
            results.append(
                {
                    "attribute_status": status,
                    "attribute_type": attribute,
                    "attribute_value": value,
                    "component": component,
                    "variable": variable,
                }
            )
        return self._call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        self._check_items("SetVariables", len(set_variable_data))
        results = []
        for item in set_variable_data:
            component, variable = item["component"], item["variable"]
            attribute = item.get("attribute_type", "Actual")
            found = self.device_model.find(
                component["name"], _evse_of(component), variable["name"], variable.get("instance")
            )
            old = found.read() if not isinstance(found, str) else ""
            status = self.device_model.set(
                component["name"],
                _evse_of(component),
                variable["name"],
                variable.get("instance"),
                attribute,
                str(item["attribute_value"]),
            )
            if status in ("Accepted", "RebootRequired") and not isinstance(found, str):
                self.variable_changed(found, old, found.read())
            results.append(
                {
                    "attribute_status": status,
                    "attribute_type": attribute,
                    "component": component,
                    "variable": variable,
                }
            )
        return self._call_result.SetVariables(set_variable_result=results)

    @on("GetBaseReport")
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        variables = self.device_model.report(report_base)
        if variables is None:
            return self._call_result.GetBaseReport(status="NotSupported")
        if not variables:
            return self._call_result.GetBaseReport(status="EmptyResultSet")
        self.defer(partial(self._send_report, request_id, variables))
        return self._call_result.GetBaseReport(status="Accepted")

    async def _send_report(self, request_id: int, variables: list[Variable]) -> None:
        entries = [_report_entry(v) for v in variables]
        pages = [entries[i : i + 100] for i in range(0, len(entries), 100)]
        try:
            await self.notify_report(request_id, self.station.clock(), pages)
        except OfflineError:
            self.station.note(f"report {request_id} lost: connection dropped")


def _report_entry(variable: Variable) -> dict[str, Any]:
    component: dict[str, Any] = {"name": variable.component}
    if variable.evse_id is not None:
        component["evse"] = {"id": variable.evse_id}
    attribute: dict[str, Any] = {"type": "Actual", "mutability": variable.mutability}
    if variable.mutability != "WriteOnly":
        attribute["value"] = variable.read()
    return {
        "component": component,
        "variable": {"name": variable.name, "instance": variable.instance},
        "variable_attribute": [attribute],
        "variable_characteristics": {
            "data_type": variable.data_type,
            "supports_monitoring": False,
            "unit": variable.unit,
            "values_list": variable.values_list,
        },
    }
