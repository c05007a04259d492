"""`chargegrid energy ...`: site load balancing from the terminal.

`show` is the live view of a site (per EVSE: allocated vs drawn per phase; a headroom bar
per phase); `limit`, `circuits`, `dr`, `priority` and `station` change what the allocator
works with. Every refusal of the energy service (unknown site, overlapping DR event, a cycle
in the circuit tree, an absurd limit) is one line on stderr and exit code 1; nothing changed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.api.energy.v1.energy_pb2_grpc import EnergyStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call, err
from chargegrid.cli.output import as_dict, enum_label, out, print_json, table

if TYPE_CHECKING:
    from chargegrid.api.energy.v1.energy_pb2_grpc import EnergyAsyncStub

energy_app = typer.Typer(help="Energy: site limits, circuits, demand response, priorities.")
circuits_app = typer.Typer(help="The circuit tree below a site's grid connection.")
dr_app = typer.Typer(help="Demand-response events (a reduced site limit for a time).")
energy_app.add_typer(circuits_app, name="circuits")
energy_app.add_typer(dr_app, name="dr")

BAR_WIDTH = 30
RELATIVE = re.compile(r"^\+(\d+(?:\.\d+)?)([smh])$")


def _stub(channel: grpc.aio.Channel) -> EnergyAsyncStub:
    return EnergyStub(channel)


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """ISO 8601 (with offset or Z), "now", or "+N" seconds/minutes/hours ("+15m")."""
    now = now or datetime.now(UTC)
    text = text.strip()
    if text == "now":
        return now
    relative = RELATIVE.match(text)
    if relative:
        amount, unit = float(relative[1]), relative[2]
        return now + timedelta(seconds=amount * {"s": 1, "m": 60, "h": 3600}[unit])
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a time (ISO 8601, 'now' or '+15m')") from None
    if when.tzinfo is None:
        raise typer.BadParameter(f"{text!r} needs a UTC offset (e.g. 2026-12-01T18:00Z)")
    return when


def _stamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when.astimezone(UTC))
    return stamp


def bar(used: float, limit: float) -> str:
    if limit <= 0:
        return "-" * BAR_WIDTH
    filled = min(BAR_WIDTH, round(BAR_WIDTH * used / limit))
    return "#" * filled + "." * (BAR_WIDTH - filled)


def reason(value: int) -> str:
    return enum_label(pb.AllocationReason.Name(value), "ALLOCATION_REASON_")  # type: ignore[arg-type]


def _phases(values: pb.PhaseCurrents) -> str:
    return f"{values.l1:.1f}/{values.l2:.1f}/{values.l3:.1f}"


def print_load(load: pb.SiteLoad) -> None:
    limit = load.effective_limit_a
    title = (
        f"site {load.site_id}: limit {_phases(limit)} A (policy {load.policy}"
        + (f", demand response {load.demand_response_id}" if load.demand_response_id else "")
        + ")"
    )
    table(
        title,
        ["station", "evse", "circuit", "allocated A", "accepted A", "drawn L1/L2/L3 A", "reason"],
        (
            [
                e.station_id,
                e.evse_id,
                e.node_id or "grid",
                f"{e.allocated_a:.1f}",
                f"{e.accepted_a:.1f}" + (" (stale)" if e.stale else ""),
                _phases(e.measured_a),
                reason(e.reason),
            ]
            for e in load.evses
        ),
    )
    for phase in ("l1", "l2", "l3"):
        used, cap = getattr(load.measured_a, phase), getattr(limit, phase)
        room = getattr(load.headroom_a, phase)
        out.print(
            f"{phase.upper()} [{bar(used, cap)}] {used:.1f} / {cap:.1f} A, headroom {room:.1f}"
        )


@energy_app.command("show")
def show(
    site_id: Annotated[str, typer.Argument(help="Site id.")],
    watch: Annotated[bool, typer.Option("--watch", help="Keep showing every change.")] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """The site's limits, each EVSE's allocation and draw per phase, and its headroom."""
    request = pb.GetSiteLoadRequest(site_id=site_id)

    async def once(channel: grpc.aio.Channel) -> None:
        load = await _stub(channel).GetSiteLoad(request)
        print_json(as_dict(load)) if json_output else print_load(load)

    async def follow(channel: grpc.aio.Channel) -> None:
        # A watch runs until stopped: a long deadline overrides the channel's default.
        async for load in _stub(channel).WatchSiteLoad(request, timeout=10 * 365 * 86400):
            print_json(as_dict(load)) if json_output else print_load(load)

    try:
        call("energy", address, token, var_dir, follow if watch else once)
    except KeyboardInterrupt:
        return


@energy_app.command("limit")
def set_limit(
    site_id: Annotated[str, typer.Argument(help="Site id.")],
    amps: Annotated[float, typer.Argument(help="Limit per phase in A (0 = no operator limit).")],
    policy: Annotated[
        str | None, typer.Option(help="fair, priority or deadline (default: unchanged).")
    ] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Set the operator's limit of a site's grid connection."""
    request = pb.SetLimitRequest(site_id=site_id, limit_a=amps, policy=policy or "")

    async def work(channel: grpc.aio.Channel) -> pb.SetLimitReply:
        return await _stub(channel).SetLimit(request)

    reply = call("energy", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(reply))
        return
    for warning in reply.warnings:
        err.print(f"warning: {warning}")
    print_load(reply.load)


@circuits_app.command("add")
def add_circuit(
    site_id: Annotated[str, typer.Argument(help="Site id.")],
    circuit_id: Annotated[str, typer.Argument(help="Circuit id (unique in the site).")],
    limit: Annotated[float, typer.Option("--limit", help="Limit per phase in A.")],
    parent: Annotated[str, typer.Option(help="Parent circuit (default: grid connection).")] = "",
    name: Annotated[str, typer.Option(help="A name people recognise.")] = "",
    limit_kw: Annotated[float, typer.Option("--kw", help="Also a total kW limit.")] = 0.0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Add a sub-circuit (a breaker, a busbar) below the grid connection or another circuit."""
    request = pb.CreateCircuitRequest(
        site_id=site_id,
        circuit_id=circuit_id,
        parent_id=parent,
        name=name,
        limit_a=pb.PhaseCurrents(l1=limit, l2=limit, l3=limit),
        limit_kw=limit_kw,
    )

    async def work(channel: grpc.aio.Channel) -> pb.Circuit:
        return await _stub(channel).CreateCircuit(request)

    circuit = call("energy", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(circuit))
    else:
        out.print(f"circuit {circuit.id} added to {circuit.site_id}")


@circuits_app.command("list")
def list_circuits(
    site_id: Annotated[str, typer.Argument(help="Site id.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """The site's circuits."""

    async def work(channel: grpc.aio.Channel) -> pb.ListCircuitsReply:
        return await _stub(channel).ListCircuits(pb.ListCircuitsRequest(site_id=site_id))

    reply = call("energy", address, token, var_dir, work)
    if json_output:
        print_json([as_dict(c) for c in reply.circuits])
        return
    table(
        f"{len(reply.circuits)} circuit(s) of {site_id}",
        ["id", "parent", "name", "limit L1/L2/L3 A", "limit kW"],
        (
            [c.id, c.parent_id or "grid", c.name, _phases(c.limit_a), c.limit_kw or ""]
            for c in reply.circuits
        ),
    )


def _dr_rows(events: list[pb.DemandResponseEvent]) -> list[list[str]]:
    rows = []
    for e in events:
        kind = e.WhichOneof("reduced") or ""
        value = getattr(e, kind) if kind else ""
        unit = {"limit_a": "A", "limit_kw": "kW", "percent": "%"}.get(kind, "")
        state = enum_label(pb.DemandResponseState.Name(e.state), "DEMAND_RESPONSE_STATE_")
        rows.append(
            [e.id, e.site_id, e.start.ToJsonString(), e.end.ToJsonString(), f"{value}{unit}", state]
        )
    return rows


@dr_app.command("add")
def add_dr(
    site_id: Annotated[str, typer.Argument(help="Site id.")],
    start: Annotated[str, typer.Option(help="ISO 8601, 'now' or '+15m'.")],
    end: Annotated[str, typer.Option(help="ISO 8601 or '+1h'.")],
    limit_a: Annotated[float | None, typer.Option("--limit-a", help="Per phase in A.")] = None,
    limit_kw: Annotated[float | None, typer.Option("--limit-kw", help="Total kW.")] = None,
    percent: Annotated[float | None, typer.Option(help="Of the limit without it.")] = None,
    source: Annotated[str, typer.Option(help="Who asked for it.")] = "operator",
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Schedule a demand-response event: the site's limit is reduced from start to end."""
    given = {k: v for k, v in (("limit_a", limit_a), ("limit_kw", limit_kw), ("percent", percent))}
    chosen = {k: v for k, v in given.items() if v is not None}
    if len(chosen) != 1:
        err.print("error: give exactly one of --limit-a, --limit-kw, --percent")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    request = pb.CreateDemandResponseRequest(
        site_id=site_id,
        start=_stamp(parse_when(start, now)),
        end=_stamp(parse_when(end, now)),
        source=source,
        **chosen,
    )

    async def work(channel: grpc.aio.Channel) -> pb.DemandResponseEvent:
        return await _stub(channel).CreateDemandResponse(request)

    event = call("energy", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(event))
    else:
        table(
            "demand response added",
            ["id", "site", "start", "end", "limit", "state"],
            _dr_rows([event]),
        )


@dr_app.command("list")
def list_dr(
    site_id: Annotated[str, typer.Argument(help="Site id (default: every site).")] = "",
    include_past: Annotated[bool, typer.Option("--all", help="Also ended and cancelled.")] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Demand-response events, scheduled and active (and past ones with --all)."""
    request = pb.ListDemandResponsesRequest(site_id=site_id, include_past=include_past)

    async def work(channel: grpc.aio.Channel) -> pb.ListDemandResponsesReply:
        return await _stub(channel).ListDemandResponses(request)

    reply = call("energy", address, token, var_dir, work)
    if json_output:
        print_json([as_dict(e) for e in reply.events])
        return
    table(
        f"{len(reply.events)} demand response(s)",
        ["id", "site", "start", "end", "limit", "state"],
        _dr_rows(list(reply.events)),
    )


@dr_app.command("cancel")
def cancel_dr(
    event_id: Annotated[str, typer.Argument(help="Event id.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """End an active event now (the limit is restored) or drop a scheduled one."""

    async def work(channel: grpc.aio.Channel) -> pb.DemandResponseEvent:
        return await _stub(channel).CancelDemandResponse(
            pb.CancelDemandResponseRequest(id=event_id)
        )

    event = call("energy", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(event))
    else:
        out.print(f"demand response {event.id} cancelled")


@energy_app.command("priority")
def set_priority(
    group_id: Annotated[str, typer.Argument(help="Token group id.")],
    priority: Annotated[int, typer.Argument(help="Higher first; 0 is the default.")],
    weight: Annotated[float, typer.Option(help="Share of what is left (default 1).")] = 1.0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Set the priority of a token group's sessions."""
    request = pb.SetPriorityRequest(group_id=group_id, priority=priority, weight=weight)

    async def work(channel: grpc.aio.Channel) -> pb.GroupPriority:
        return await _stub(channel).SetPriority(request)

    reply = call("energy", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(reply))
    else:
        out.print(f"group {reply.group_id}: priority {reply.priority}, weight {reply.weight:g}")


@energy_app.command("station")
def set_station(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    max_current_a: Annotated[float, typer.Option("--max", help="Max A per phase per EVSE.")],
    min_current_a: Annotated[float, typer.Option("--min", help="Below this: paused.")] = 6.0,
    phases: Annotated[int, typer.Option(help="Phases wired (1 or 3).")] = 3,
    rotation: Annotated[
        str, typer.Option(help="Grid phase per station phase, e.g. L2,L3,L1 (default L1..).")
    ] = "",
    fallback: Annotated[float, typer.Option(help="A it may draw offline (0 = its minimum).")] = 0.0,
    circuit: Annotated[str, typer.Option(help="Circuit it hangs on (default: grid).")] = "",
    confirm_composite: Annotated[
        bool,
        typer.Option(
            "--confirm-composite",
            help="Check each accepted TxProfile with GetCompositeSchedule (stations that "
            "may accept a profile and not apply it).",
        ),
    ] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Set where a station sits and what it may draw."""
    settings = pb.StationSettings(
        station_id=station_id,
        node_id=circuit,
        max_current_a=max_current_a,
        min_current_a=min_current_a,
        phases=phases,
        rotation=[p for p in rotation.split(",") if p],
        offline_fallback_a=fallback,
        confirm_with_composite_schedule=confirm_composite,
    )

    async def work(channel: grpc.aio.Channel) -> pb.StationSettings:
        return await _stub(channel).SetStationSettings(
            pb.SetStationSettingsRequest(settings=settings)
        )

    reply = call("energy", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(reply))
    else:
        out.print(f"station {reply.station_id} settings saved (site {reply.site_id or '-'})")
