"""Monitoring (2.x block N) as OCPP 2.0.1 CALLs: SetVariableMonitoring,
ClearVariableMonitoring, SetMonitoringBase, SetMonitoringLevel, GetMonitoringReport.

Monitor types, bases, criteria and severities are checked before anything is sent; whether a
variable exists is the station's to say (UnknownComponent / UnknownVariable per monitor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.device_keys import key_of, variable_of
from chargegrid.gateway.commands.translation import InvalidCommand

Call = tuple[str, dict[str, Any]]
MONITOR_TYPES = ("UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned")
BASES = ("All", "FactoryDefault", "HardWiredOnly")
CRITERIA = ("ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring")


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise InvalidCommand(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _severity(value: int) -> int:
    if not 0 <= value <= 9:
        raise InvalidCommand(f"severity must be 0 (Danger) ... 9 (Debug), got {value}")
    return value


def _monitor(m: pb.VariableMonitor) -> dict[str, Any]:
    target = variable_of(m.key)
    if m.evse_id:
        target["component"]["evse"] = {"id": m.evse_id}
    data: dict[str, Any] = {
        **target,
        "type": _one_of(m.type, MONITOR_TYPES, "type"),
        "value": m.value,
        "severity": _severity(m.severity),
        "transaction": m.transaction,
    }
    if m.id:
        data["id"] = m.id
    return data


def set_variable_monitoring(m: pb.SetVariableMonitoringRequest, _env: Any) -> Call:
    if not m.monitors:
        raise InvalidCommand("at least one monitor is required")
    return "SetVariableMonitoring", {"setMonitoringData": [_monitor(x) for x in m.monitors]}


def clear_variable_monitoring(m: pb.ClearVariableMonitoringRequest, _env: Any) -> Call:
    if not m.ids:
        raise InvalidCommand("at least one monitor id is required")
    return "ClearVariableMonitoring", {"id": list(m.ids)}


def set_monitoring_base(m: pb.SetMonitoringBaseRequest, _env: Any) -> Call:
    return "SetMonitoringBase", {"monitoringBase": _one_of(m.base, BASES, "base")}


def set_monitoring_level(m: pb.SetMonitoringLevelRequest, _env: Any) -> Call:
    return "SetMonitoringLevel", {"severity": _severity(m.severity)}


def get_monitoring_report(m: pb.GetMonitoringReportRequest, env: Any) -> Call:
    payload: dict[str, Any] = {"requestId": m.request_id or env.remote_start_ids()}
    if m.criteria:
        payload["monitoringCriteria"] = [_one_of(c, CRITERIA, "criteria") for c in m.criteria]
    if m.keys:
        payload["componentVariable"] = [variable_of(key) for key in m.keys]
    return "GetMonitoringReport", payload


def set_monitoring_reply(_m: Message, payload: dict[str, Any]) -> pb.SetVariableMonitoringReply:
    return pb.SetVariableMonitoringReply(
        results=[
            pb.SetMonitorResult(
                key=key_of(r),
                id=int(r.get("id", 0)),
                status=r["status"],
                type=r["type"],
                severity=int(r["severity"]),
            )
            for r in payload["setMonitoringResult"]
        ]
    )


def clear_monitoring_reply(_m: Message, payload: dict[str, Any]) -> pb.ClearVariableMonitoringReply:
    return pb.ClearVariableMonitoringReply(
        results=[
            pb.ClearMonitorResult(id=int(r["id"]), status=r["status"])
            for r in payload["clearMonitoringResult"]
        ]
    )


REQUESTS: dict[str, Callable[[Any, Any], Call]] = {
    "SetVariableMonitoring": set_variable_monitoring,
    "ClearVariableMonitoring": clear_variable_monitoring,
    "SetMonitoringBase": set_monitoring_base,
    "SetMonitoringLevel": set_monitoring_level,
    "GetMonitoringReport": get_monitoring_report,
}
REPLIES: dict[str, Callable[[Any, dict[str, Any]], Message]] = {
    "SetVariableMonitoring": set_monitoring_reply,
    "ClearVariableMonitoring": clear_monitoring_reply,
}
