"""`chargegrid stations monitors set | clear | base | level | report`: 2.x variable monitoring
through the gateway (block N). What the monitors raise is `chargegrid stations alerts`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import grpc
import typer

from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call
from chargegrid.cli.output import as_dict, out, print_json, table
from chargegrid.cli.report_wait import new_request_id, wait_for_report
from chargegrid.cli.stations_cmd import stations_app

REPORT = "NotifyMonitoringReport"

monitors_app = typer.Typer(help="Variable monitors of a 2.x station: set, clear, base, level.")
stations_app.add_typer(monitors_app, name="monitors")


def _status(reply: ctl.CommandReply, json_output: bool) -> None:
    if json_output:
        print_json(as_dict(reply))
    else:
        out.print(reply.status)


@monitors_app.command("set")
def set_monitor(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    key: Annotated[str, typer.Option(help="Component/Variable, e.g. TxCtrlr/EVConnectionTimeOut.")],
    monitor_type: Annotated[
        str, typer.Option("--type", help="UpperThreshold, LowerThreshold, Delta, Periodic, ...")
    ],
    value: Annotated[float, typer.Option(help="Threshold, delta or period.")],
    severity: Annotated[int, typer.Option(help="0 (Danger) ... 9 (Debug).")] = 5,
    monitor_id: Annotated[int, typer.Option("--id", help="Replace this monitor.")] = 0,
    evse: Annotated[int, typer.Option(help="The EVSE of the component; 0 = none.")] = 0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """SetVariableMonitoring: the station's status and the id it gave the monitor."""
    monitor = ctl.VariableMonitor(
        key=key, id=monitor_id, type=monitor_type, value=value, severity=severity, evse_id=evse
    )
    request = ctl.SetVariableMonitoringRequest(station_id=station_id, monitors=[monitor])

    async def work(channel: grpc.aio.Channel) -> ctl.SetVariableMonitoringReply:
        stub = StationControlStub(channel)
        reply: ctl.SetVariableMonitoringReply = await stub.SetVariableMonitoring(request)
        return reply

    reply = call("gateway", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(reply))
        return
    table(
        "monitors",
        ["key", "id", "type", "severity", "status"],
        ([r.key, r.id or "", r.type, r.severity, r.status] for r in reply.results),
    )


@monitors_app.command("clear")
def clear_monitors(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    ids: Annotated[list[int], typer.Argument(help="Monitor ids.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """ClearVariableMonitoring: Accepted, Rejected or NotFound per id."""
    request = ctl.ClearVariableMonitoringRequest(station_id=station_id, ids=ids)

    async def work(channel: grpc.aio.Channel) -> ctl.ClearVariableMonitoringReply:
        stub = StationControlStub(channel)
        reply: ctl.ClearVariableMonitoringReply = await stub.ClearVariableMonitoring(request)
        return reply

    reply = call("gateway", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(reply))
        return
    table("cleared", ["id", "status"], ([r.id, r.status] for r in reply.results))


@monitors_app.command("base")
def set_base(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    base: Annotated[str, typer.Argument(help="All, FactoryDefault or HardWiredOnly.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """SetMonitoringBase."""
    request = ctl.SetMonitoringBaseRequest(station_id=station_id, base=base)

    async def work(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).SetMonitoringBase(request)
        return reply

    _status(call("gateway", address, token, var_dir, work), json_output)


@monitors_app.command("level")
def set_level(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    severity: Annotated[int, typer.Argument(help="0 ... 9: report this severity or worse.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """SetMonitoringLevel."""
    request = ctl.SetMonitoringLevelRequest(station_id=station_id, severity=severity)

    async def work(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).SetMonitoringLevel(request)
        return reply

    _status(call("gateway", address, token, var_dir, work), json_output)


@monitors_app.command("report")
def get_report(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    criteria: Annotated[
        list[str] | None, typer.Option("--criterion", help="Threshold/Delta/PeriodicMonitoring.")
    ] = None,
    keys: Annotated[list[str] | None, typer.Option("--key", help="Only these variables.")] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the NotifyMonitoringReport.")
    ] = 10.0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """GetMonitoringReport, then the monitors the station reports (NotifyMonitoringReport)."""
    request_id = new_request_id()
    request = ctl.GetMonitoringReportRequest(
        station_id=station_id, request_id=request_id, criteria=criteria or [], keys=keys or []
    )

    async def ask(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).GetMonitoringReport(request)
        return reply

    reply = call("gateway", address, token, var_dir, ask)

    async def collect(channel: grpc.aio.Channel) -> list[dict[str, Any]]:
        return await wait_for_report(channel, station_id, REPORT, request_id, wait)

    parts = call("stations", address, token, var_dir, collect) if reply.status == "Accepted" else []
    monitors = [
        {"key": _key(entry), **monitor}
        for part in parts
        for entry in part.get("monitor", [])
        for monitor in entry.get("variableMonitoring", [])
    ]
    if json_output:
        print_json({"status": reply.status, "monitors": monitors})
        return
    table(
        f"{reply.status}: {len(monitors)} monitor(s)",
        ["id", "key", "type", "value", "severity"],
        ([m["id"], m["key"], m["type"], m["value"], m["severity"]] for m in monitors),
    )


def _key(entry: dict[str, Any]) -> str:
    component, variable = entry.get("component", {}), entry.get("variable", {})
    return f"{component.get('name', '')}/{variable.get('name', '')}"
