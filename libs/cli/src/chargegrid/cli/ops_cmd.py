"""`chargegrid ops ...`: one command to many stations, as operators of large networks need.

Targets are `--station ID` (repeatable) or a selection from the stations registry (`--site`,
`--model`, `--status`: online, offline or a connector status such as faulted). Commands go to
the gateway's StationControl with bounded concurrency and a progress bar; the command ends
with a per-station table (accepted, rejected, offline, unknown to the registry, timed out,
error) and exits 1 when any station did not accept. Well-known 1.6 configuration keys are
translated for 2.x stations (`config_keys`).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import grpc
import typer
from rich.progress import Progress

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.api.station.v1.events_pb2 import ConnectorStatus
from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.cli.api import (
    AddressOption,
    JsonOption,
    TokenOption,
    VarDirOption,
    api_token,
    is_wrong_service,
    paged,
    report_rpc_error,
    service_address,
)
from chargegrid.cli.config_keys import key_for, keys_to_read
from chargegrid.cli.output import out, print_json, table
from chargegrid.platform.grpc.client import create_channel

if TYPE_CHECKING:
    from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlAsyncStub

ops_app = typer.Typer(help="Commands to one station or a whole selection, with a result table.")

StationOption = Annotated[
    list[str] | None, typer.Option("--station", help="Station id (repeatable).")
]
SiteOption = Annotated[str | None, typer.Option(help="Every station of this site.")]
ModelOption = Annotated[str | None, typer.Option(help="Every station of this model.")]
StatusOption = Annotated[
    str | None,
    typer.Option(help="Only stations online, offline, or with a connector in this status."),
]
ConcurrencyOption = Annotated[
    int, typer.Option(min=1, max=500, help="Stations commanded at the same time.")
]
StationsAddressOption = Annotated[
    str | None, typer.Option("--stations-address", help="Stations service gRPC address.")
]
OK = "accepted"


@dataclass(frozen=True)
class Result:
    station_id: str
    outcome: str  # accepted, rejected, offline, unknown, timed out, error
    detail: str


class WrongService(Exception):
    """The gateway address answers, but not StationControl: no station can be commanded."""

    def __init__(self, error: grpc.aio.AioRpcError) -> None:
        super().__init__(error.details())
        self.error = error


@dataclass(frozen=True)
class Target:
    """A selected station as the registry knows it (ocpp_version 0: never booted)."""

    id: str
    ocpp_version: int = 0


Command = Callable[["StationControlAsyncStub", Target], Awaitable[tuple[bool, str]]]


@dataclass(frozen=True)
class Selection:
    stations: list[str]
    site: str | None
    model: str | None
    status: str | None

    def empty(self) -> bool:
        return not (self.stations or self.site or self.model or self.status)


def _status_filter(request: stations_pb.ListStationsRequest, status: str) -> None:
    word = status.strip().lower()
    if word in ("online", "offline"):
        request.online = word
        return
    name = "CONNECTOR_STATUS_" + word.upper().replace("-", "_")
    names = list(ConnectorStatus.keys())
    if name not in names:
        choices = [k.removeprefix("CONNECTOR_STATUS_").lower() for k in names]
        raise typer.BadParameter(f"online, offline or one of {', '.join(choices[1:])}")
    request.connector_status = ConnectorStatus.Value(name)


async def _named(channel: grpc.aio.Channel, station_ids: list[str]) -> list[Target | str]:
    """Each named station from the registry, or its bare id when the registry has none."""
    stub = StationsStub(channel)
    gate = asyncio.Semaphore(20)

    async def one(station_id: str) -> Target | str:
        async with gate:
            try:
                found = await stub.GetStation(stations_pb.GetStationRequest(station_id=station_id))
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:
                    return station_id
                raise
        return Target(found.id, found.ocpp_version)

    return list(await asyncio.gather(*(one(s) for s in dict.fromkeys(station_ids))))


async def _select(channel: grpc.aio.Channel, selection: Selection) -> list[Target | str]:
    """The selected stations; a named station the registry does not know stays a bare id."""
    if selection.stations and not (selection.site or selection.model or selection.status):
        return await _named(channel, selection.stations)
    request = stations_pb.ListStationsRequest(
        site_id=selection.site or "", model=selection.model or ""
    )
    if selection.status:
        _status_filter(request, selection.status)
    listed = await paged(StationsStub(channel).ListStations, request, "stations", 500)
    wanted = set(selection.stations)
    return [Target(s.id, s.ocpp_version) for s in listed if not wanted or s.id in wanted]


async def _run_one(stub: StationControlAsyncStub, target: Target | str, command: Command) -> Result:
    if isinstance(target, str):
        return Result(target, "unknown", "not in the stations registry")
    try:
        accepted, detail = await command(stub, target)
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
        if code == grpc.StatusCode.NOT_FOUND:
            return Result(target.id, "offline", exc.details() or "")
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return Result(target.id, "timed out", exc.details() or "")
        if is_wrong_service(exc):
            raise WrongService(exc) from None
        return Result(target.id, "error", f"{code.name}: {exc.details()}")
    return Result(target.id, OK if accepted else "rejected", detail)


def run_command(
    title: str,
    command: Command,
    selection: Selection,
    *,
    concurrency: int,
    json_output: bool,
    address: str | None,
    stations_address: str | None,
    token: str | None,
    var_dir: Path,
) -> None:
    """Select, command with bounded concurrency, print the table, exit 1 on any failure."""
    if selection.empty():
        raise typer.BadParameter("give --station ID (repeatable) or --site / --model / --status")
    secret = api_token(token, var_dir)
    gateway_target = service_address("gateway", address)
    stations_target = service_address("stations", stations_address)

    async def run() -> list[Result]:
        registry = create_channel(stations_target, token=secret, default_timeout_s=30)
        gateway = create_channel(gateway_target, token=secret, default_timeout_s=60)
        try:
            try:
                targets = await _select(registry, selection)
            except grpc.aio.AioRpcError as exc:
                raise typer.Exit(report_rpc_error("stations", stations_target, exc)) from None
            stub: StationControlAsyncStub = StationControlStub(gateway)
            gate = asyncio.Semaphore(concurrency)
            with Progress(disable=json_output, transient=True) as progress:
                task = progress.add_task(title, total=len(targets))

                async def bounded(target: Target | str) -> Result:
                    async with gate:
                        result = await _run_one(stub, target, command)
                    progress.advance(task)
                    return result

                try:
                    return list(await asyncio.gather(*(bounded(t) for t in targets)))
                except WrongService as wrong:
                    # Every station would fail the same way: one line instead of a table.
                    code = report_rpc_error("gateway", gateway_target, wrong.error)
                    raise typer.Exit(code) from None
        finally:
            await registry.close()
            await gateway.close()

    results = asyncio.run(run())
    failed = [r for r in results if r.outcome != OK]
    if json_output:
        print_json([r.__dict__ for r in results])
    else:
        table(
            f"{title}: {len(results) - len(failed)} of {len(results)} accepted",
            ["station", "result", "detail"],
            ([r.station_id, r.outcome, r.detail] for r in results),
        )
    if not results:
        out.print("no station matched the selection")
    if failed or not results:
        raise typer.Exit(1)


#: What a fleet command's own options come to: the title of its progress bar and result
#: table, and the call made to each selected station.
Plan = tuple[str, Command]


def _fleet_options(
    station: StationOption = None,
    site: SiteOption = None,
    model: ModelOption = None,
    status: StatusOption = None,
    concurrency: ConcurrencyOption = 20,
    json_output: JsonOption = False,
    address: AddressOption = None,
    stations_address: StationsAddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """The options every `ops` command takes after its own; only the signature is used."""


_FLEET_PARAMETERS = list(inspect.signature(_fleet_options, eval_str=True).parameters.values())


def fleet_command(name: str) -> Callable[[Callable[..., Plan]], Callable[..., Plan]]:
    """Register `plan` as `chargegrid ops NAME`: its own options first, then the selection,
    concurrency, output and connection options shared by every fleet command, written once
    here instead of in each command. `plan` turns its options into a Plan (raising
    typer.BadParameter for bad ones, before anything is contacted); `run_command` does the rest.
    """

    def register(plan: Callable[..., Plan]) -> Callable[..., Plan]:
        parameters = [
            *inspect.signature(plan, eval_str=True).parameters.values(),
            *_FLEET_PARAMETERS,
        ]

        def command(**options: Any) -> None:
            shared = {p.name: options.pop(p.name) for p in _FLEET_PARAMETERS}
            title, call = plan(**options)
            selection = Selection(
                shared.pop("station") or [],
                shared.pop("site"),
                shared.pop("model"),
                shared.pop("status"),
            )
            run_command(title, call, selection, **shared)

        # typer reads a command's options from its signature and type hints.
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        command.__name__ = plan.__name__
        command.__doc__ = plan.__doc__
        ops_app.command(name)(command)
        return plan

    return register


def _status(reply: pb.CommandReply, *accepted: str) -> tuple[bool, str]:
    detail = reply.status + (f" ({reply.status_reason})" if reply.status_reason else "")
    return reply.status in accepted, detail


@fleet_command("reset")
def reset(
    hard: Annotated[bool, typer.Option(help="Hard (1.6) / Immediate (2.x) reset.")] = False,
) -> Plan:
    """Reset stations (soft, waiting for idle, unless --hard)."""
    kind = pb.RESET_KIND_HARD if hard else pb.RESET_KIND_SOFT

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        reply = await stub.Reset(pb.ResetRequest(station_id=target.id, kind=kind))
        return _status(reply, "Accepted", "Scheduled")

    return "reset", command


@fleet_command("unlock")
def unlock(
    connector: Annotated[int, typer.Option(min=1, help="Connector id.")] = 1,
    evse: Annotated[int, typer.Option(min=0, help="EVSE id (2.x; default: the connector).")] = 0,
) -> Plan:
    """Unlock a connector."""

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        reply = await stub.UnlockConnector(
            pb.UnlockConnectorRequest(
                station_id=target.id, evse_id=evse or connector, connector_id=connector
            )
        )
        return _status(reply, "Unlocked")

    return "unlock", command


@fleet_command("availability")
def availability(
    operative: Annotated[bool, typer.Option("--operative/--inoperative", help="The new state.")],
    evse: Annotated[int, typer.Option(min=0, help="One EVSE / connector; 0 = all.")] = 0,
) -> Plan:
    """Take stations (or one EVSE) in or out of service."""

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        reply = await stub.ChangeAvailability(
            pb.ChangeAvailabilityRequest(
                station_id=target.id, evse_id=evse, connector_id=evse, operative=operative
            )
        )
        return _status(reply, "Accepted", "Scheduled")

    return "availability", command


@fleet_command("trigger")
def trigger(
    message: Annotated[str, typer.Option(help="e.g. Heartbeat, StatusNotification, MeterValues.")],
    evse: Annotated[int, typer.Option(min=0, help="EVSE / connector (0 = station).")] = 0,
) -> Plan:
    """Ask stations to send a message now (TriggerMessage)."""

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        reply = await stub.TriggerMessage(
            pb.TriggerMessageRequest(
                station_id=target.id, message=message, evse_id=evse, connector_id=evse
            )
        )
        return _status(reply, "Accepted")

    return f"trigger {message}", command


@fleet_command("clear-cache")
def clear_cache() -> Plan:
    """Clear the stations' authorization cache."""

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        reply = await stub.ClearCache(pb.ClearCacheRequest(station_id=target.id))
        return _status(reply, "Accepted")

    return "clear-cache", command


@fleet_command("data-transfer")
def data_transfer(
    vendor: Annotated[str, typer.Option(help="Vendor id.")],
    message_id: Annotated[str, typer.Option(help="Message id.")] = "",
    data: Annotated[str, typer.Option(help="Data (text).")] = "",
) -> Plan:
    """Send a vendor DataTransfer."""

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        reply = await stub.DataTransfer(
            pb.DataTransferRequest(
                station_id=target.id, vendor_id=vendor, message_id=message_id, data=data
            )
        )
        return reply.status == "Accepted", f"{reply.status} {reply.data}".strip()

    return "data-transfer", command


@fleet_command("get-config")
def get_config(
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="1.6 key or 2.x Component/Variable (repeatable); well-known 1.6 keys such "
            "as HeartbeatInterval are translated for 2.x stations.",
        ),
    ] = None,
) -> Plan:
    """Read configuration keys (none given: 1.6 every key, 2.x the well-known variables)."""

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        keys = keys_to_read(key or [], target.ocpp_version)
        reply = await stub.GetConfiguration(
            pb.GetConfigurationRequest(station_id=target.id, keys=keys)
        )
        values = [f"{v.key}={v.value}" for v in reply.values]
        unknown = [f"{k}=?(unknown)" for k in reply.unknown_keys]
        return True, ", ".join(values + unknown)

    return "get-config", command


def _pairs(values: list[str]) -> list[pb.ConfigurationValue]:
    pairs = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--set")
        pairs.append(pb.ConfigurationValue(key=name, value=value))
    return pairs


@fleet_command("set-config")
def set_config(
    assignments: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="KEY=VALUE (repeatable): a 1.6 key or 2.x Component/Variable; well-known "
            "1.6 keys such as HeartbeatInterval are translated for 2.x stations.",
        ),
    ],
) -> Plan:
    """Change configuration keys; RebootRequired counts as accepted (and is shown)."""
    values = _pairs(assignments)

    async def command(stub: StationControlAsyncStub, target: Target) -> tuple[bool, str]:
        mine = [
            pb.ConfigurationValue(key=key_for(v.key, target.ocpp_version), value=v.value)
            for v in values
        ]
        reply = await stub.SetConfiguration(
            pb.SetConfigurationRequest(station_id=target.id, values=mine)
        )
        ok = all(r.status in ("Accepted", "RebootRequired") for r in reply.results)
        return ok, ", ".join(f"{r.key}: {r.status}" for r in reply.results)

    return "set-config", command
