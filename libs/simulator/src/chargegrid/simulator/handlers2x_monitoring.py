"""OCPP 2.x monitoring calls (block N), station side, over `monitors.MonitorStore`.

SetVariableMonitoring answers per monitor (UnknownComponent / UnknownVariable for a variable
the device model lacks), ClearVariableMonitoring NotFound for an unknown id,
GetMonitoringReport EmptyResultSet or Accepted followed by NotifyMonitoringReport. A
SetVariables that moves a monitored value across a threshold sends NotifyEvent.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from chargegrid.simulator.device_variables import Variable
from chargegrid.simulator.link import OfflineError
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.monitors import Monitor, MonitorStore, Trigger
from chargegrid.simulator.routing import on


def monitor_store(link: Outbound2x) -> MonitorStore:
    station: Any = link.station
    if not hasattr(station, "monitors"):
        station.monitors = MonitorStore()
    store: MonitorStore = station.monitors
    return store


def _component(variable: Variable) -> dict[str, Any]:
    component: dict[str, Any] = {"name": variable.component}
    if variable.evse_id is not None:
        component["evse"] = {"id": variable.evse_id}
    return component


def _variable(variable: Variable) -> dict[str, Any]:
    named: dict[str, Any] = {"name": variable.name}
    if variable.instance:
        named["instance"] = variable.instance
    return named


def _evse(component: dict[str, Any]) -> int | None:
    evse = component.get("evse")
    return int(evse["id"]) if evse else None


class Monitoring2x(Outbound2x):
    """SetVariableMonitoring, ClearVariableMonitoring, SetMonitoringBase/Level,
    GetMonitoringReport, and NotifyEvent when a monitor fires."""

    def _lookup(self, item: dict[str, Any]) -> Variable | str:
        component, variable = item["component"], item["variable"]
        model: Any = getattr(self.station, "device_model")  # noqa: B009
        found: Variable | str = model.find(
            component["name"], _evse(component), variable["name"], variable.get("instance")
        )
        return found

    @on("SetVariableMonitoring")
    def on_set_variable_monitoring(
        self, set_monitoring_data: list[dict[str, Any]], **_: Any
    ) -> Any:
        store = monitor_store(self)
        results = []
        for item in set_monitoring_data:
            found = self._lookup(item)
            if isinstance(found, str):
                status = found
            else:
                status = store.set(
                    found, item["type"], float(item["value"]), int(item["severity"]),
                    int(item.get("id", 0)),
                )  # fmt: skip
            result = {
                "status": status, "type": item["type"], "severity": item["severity"],
                "component": item["component"], "variable": item["variable"],
            }  # fmt: skip
            if status == "Accepted":
                result["id"] = store.last_id
            results.append(result)
        return self._call_result.SetVariableMonitoring(set_monitoring_result=results)

    @on("ClearVariableMonitoring")
    def on_clear_variable_monitoring(self, id: list[int], **_: Any) -> Any:
        store = monitor_store(self)
        results = [{"id": monitor_id, "status": store.clear(monitor_id)} for monitor_id in id]
        return self._call_result.ClearVariableMonitoring(clear_monitoring_result=results)

    @on("SetMonitoringBase")
    def on_set_monitoring_base(self, monitoring_base: str, **_: Any) -> Any:
        if monitoring_base in ("FactoryDefault", "HardWiredOnly"):
            monitor_store(self).reset_custom()  # N03: both drop the custom monitors
        return self._call_result.SetMonitoringBase(status="Accepted")

    @on("SetMonitoringLevel")
    def on_set_monitoring_level(self, severity: int, **_: Any) -> Any:
        if not 0 <= severity <= 9:
            return self._call_result.SetMonitoringLevel(status="Rejected")
        monitor_store(self).level = severity
        return self._call_result.SetMonitoringLevel(status="Accepted")

    @on("GetMonitoringReport")
    def on_get_monitoring_report(
        self,
        request_id: int,
        monitoring_criteria: list[str] | None = None,
        component_variable: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        variables = None
        if component_variable:
            found = [self._lookup(item) for item in component_variable]
            variables = [v for v in found if not isinstance(v, str)]
        monitors = monitor_store(self).matching(monitoring_criteria or [], variables)
        if not monitors:
            return self._call_result.GetMonitoringReport(status="EmptyResultSet")
        self.defer(partial(self._report, request_id, monitors))
        return self._call_result.GetMonitoringReport(status="Accepted")

    async def _report(self, request_id: int, monitors: list[Monitor]) -> None:
        entries = [
            {
                "component": _component(m.variable), "variable": _variable(m.variable),
                "variable_monitoring": [{
                    "id": m.id, "transaction": m.transaction, "value": m.value, "type": m.type,
                    "severity": m.severity,
                }],
            }
            for m in monitors
        ]  # fmt: skip
        try:
            await self.request(
                self._call.NotifyMonitoringReport(
                    request_id=request_id, seq_no=0,
                    generated_at=self.station.clock().isoformat(), monitor=entries,
                )
            )  # fmt: skip
        except OfflineError:
            self.station.note(f"monitoring report {request_id} lost: connection dropped")

    def variable_changed(self, variable: Variable, old: str, new: str) -> None:
        triggers = monitor_store(self).changed(variable, old, new)
        if triggers:
            self.defer(partial(self._notify_event, triggers))

    async def _notify_event(self, triggers: list[Trigger]) -> None:
        store = monitor_store(self)
        now = self.station.clock().isoformat()
        data = [
            {
                "event_id": store.event_id(), "timestamp": now,
                "trigger": "Delta" if t.monitor.type == "Delta" else "Alerting",
                "actual_value": t.actual_value, "cleared": t.cleared,
                "event_notification_type": "CustomMonitor",
                "variable_monitoring_id": t.monitor.id,
                "component": _component(t.monitor.variable),
                "variable": _variable(t.monitor.variable),
            }
            for t in triggers
        ]  # fmt: skip
        try:
            await self.request(self._call.NotifyEvent(generated_at=now, seq_no=0, event_data=data))
        except OfflineError:
            self.station.note("NotifyEvent lost: connection dropped")
