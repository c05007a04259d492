"""`chargegrid analytics utilization|uptime|status|exclusions`: connector states.

Utilization per bucket (shares of connector time per state), NEVI uptime per port and
month with its outages, the AFIR status of each EVSE now, and the operator-excluded periods
uptime does not count. Same scopes, ranges, tables, `--csv` and `--json` as the other
analytics commands; registered on their group by `register`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.analytics.v1.analytics_pb2_grpc import AnalyticsStub
from chargegrid.cli.analytics_cmd import (
    PAGE,
    CsvOption,
    FromOption,
    GrainOption,
    ScopeOption,
    UntilOption,
    _time,
    build_query,
    emit,
    fetch,
    parse_scope,
)
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call
from chargegrid.cli.output import as_dict, print_json, table

exclusions_app = typer.Typer(
    help="Periods excluded from uptime (planned maintenance, grid outage): add, list, remove."
)
REASONS = ("planned_maintenance", "grid_outage")


def _pct(share: float) -> str:
    return f"{share * 100:.1f}"


def utilization(
    scope: ScopeOption = "network",
    since: FromOption = None,
    until: UntilOption = None,
    granularity: GrainOption = "day",
    csv_output: CsvOption = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Share of connector time charging, occupied, available, unavailable, faulted, offline."""
    query = build_query(scope, since, until, granularity)
    buckets = fetch("Utilization", "buckets", query, address, token, var_dir)
    rows = [
        [
            b.label,
            _pct(b.charging_share),
            _pct(b.occupied_share),
            _pct(b.available_share),
            _pct(b.unavailable_share),
            _pct(b.faulted_share),
            _pct(b.offline_share),
        ]
        for b in buckets
    ]
    emit(
        f"Utilization, {scope} (% of connector time)",
        ["bucket", "charging", "occupied", "available", "unavailable", "faulted", "offline"],
        rows,
        buckets,
        json_output=json_output,
        csv_output=csv_output,
        chart_column=1,
    )


def uptime(
    scope: ScopeOption = "network",
    since: Annotated[
        str | None, typer.Option("--from", help="Start (ISO 8601; default 365 days ago).")
    ] = None,
    until: UntilOption = None,
    outages: Annotated[bool, typer.Option("--outages", help="List the outages instead.")] = False,
    csv_output: CsvOption = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """NEVI uptime (23 CFR 680.116(b)) per port and month over 12 months, or its outages."""
    default_from = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    query = build_query(scope, since or default_from, until, "month")

    async def run(channel: grpc.aio.Channel) -> tuple[pb.UptimeReply, list[Any]]:
        stub = AnalyticsStub(channel)
        query.page.page_size = PAGE
        first: pb.UptimeReply = await stub.Uptime(query)
        listed = list(first.outages)
        reply = first
        while reply.next_page_token:
            query.page.page_token = reply.next_page_token
            reply = await stub.Uptime(query)
            listed += reply.outages
        return first, listed

    first, listed = call("analytics", address, token, var_dir, run)
    if outages:
        rows = [
            [
                o.station_id,
                o.evse_id,
                o.start.ToJsonString(),
                o.end.ToJsonString(),
                o.cause,
                "yes" if o.excluded else "",
            ]
            for o in listed
        ]
        emit(
            f"Outages, {scope}",
            ["station", "evse", "start (UTC)", "end (UTC)", "cause", "excluded"],
            rows,
            listed,
            json_output=json_output,
            csv_output=csv_output,
        )
        return
    ports = list(first.ports)
    rows = [
        [
            p.station_id,
            p.evse_id,
            p.month,
            f"{p.uptime_percent:.3f}",
            f"{p.outage_minutes:.0f}",
            f"{p.excluded_minutes:.0f}",
        ]
        for p in ports
    ]
    emit(
        f"Uptime, {scope}: {first.uptime_percent:.3f} % (last month, all ports)",
        ["station", "evse", "month", "uptime %", "outage min", "excluded min"],
        rows,
        ports,
        json_output=json_output,
        csv_output=csv_output,
    )


def status(
    scope: ScopeOption = "network",
    csv_output: CsvOption = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Each EVSE's status and availability now, as AFIR Article 20 has it published."""
    request = pb.StatusRequest(scope=parse_scope(scope))

    async def run(channel: grpc.aio.Channel) -> list[Any]:
        reply = await AnalyticsStub(channel).Status(request)
        return list(reply.evses)

    found = call("analytics", address, token, var_dir, run)
    rows = [
        [e.site_id, e.station_id, e.evse_id, e.status, e.availability, e.since.ToJsonString()]
        for e in found
    ]
    emit(
        f"Status, {scope}",
        ["site", "station", "evse", "status", "availability", "since (UTC)"],
        rows,
        found,
        json_output=json_output,
        csv_output=csv_output,
    )


def _exclusion_rows(found: list[pb.Exclusion]) -> list[list[Any]]:
    def scope_text(scope: pb.Scope) -> str:
        if scope.kind == pb.SCOPE_KIND_SITE:
            return f"site:{scope.site_id}"
        if scope.kind == pb.SCOPE_KIND_EVSE:
            return f"evse:{scope.station_id}/{scope.evse_id}"
        return f"station:{scope.station_id}"

    return [
        [
            e.id,
            scope_text(e.scope),
            e.start.ToJsonString(),
            e.end.ToJsonString(),
            e.reason,
            e.note,
        ]
        for e in found
    ]


EXCLUSION_COLUMNS = ["id", "scope", "start (UTC)", "end (UTC)", "reason", "note"]


@exclusions_app.command("add")
def add_exclusion(
    scope: Annotated[str, typer.Option("--scope", help="site:ID, station:ID or evse:STATION/N.")],
    since: Annotated[str, typer.Option("--from", help="Start (ISO 8601).")],
    until: Annotated[str, typer.Option("--until", help="End (ISO 8601).")],
    reason: Annotated[str, typer.Option("--reason", help="planned_maintenance or grid_outage.")],
    note: Annotated[str, typer.Option("--note", help="Why, for the report.")] = "",
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Exclude a period from uptime for a site, a station or one EVSE."""
    if reason not in REASONS:
        raise typer.BadParameter("use planned_maintenance or grid_outage", param_hint="--reason")
    now = datetime.now(UTC)
    request = pb.AddExclusionRequest(
        scope=parse_scope(scope),
        start=_time(since, now, "--from"),
        end=_time(until, now, "--until"),
        reason=reason,
        note=note,
    )

    async def run(channel: grpc.aio.Channel) -> pb.Exclusion:
        added: pb.Exclusion = await AnalyticsStub(channel).AddExclusion(request)
        return added

    added = call("analytics", address, token, var_dir, run)
    if json_output:
        print_json(as_dict(added))
        return
    table("Exclusion added", EXCLUSION_COLUMNS, _exclusion_rows([added]))


@exclusions_app.command("list")
def list_exclusions(
    scope: ScopeOption = "network",
    since: Annotated[
        str | None, typer.Option("--from", help="Overlapping from (ISO 8601).")
    ] = None,
    until: UntilOption = None,
    csv_output: CsvOption = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """The excluded periods of a scope (those overlapping --from/--until when given)."""
    now = datetime.now(UTC)
    request = pb.ListExclusionsRequest(scope=parse_scope(scope))
    if since is not None:
        request.start.CopyFrom(_time(since, now, "--from"))
    if until is not None:
        request.end.CopyFrom(_time(until, now, "--until"))

    async def run(channel: grpc.aio.Channel) -> list[Any]:
        reply = await AnalyticsStub(channel).ListExclusions(request)
        return list(reply.exclusions)

    found = call("analytics", address, token, var_dir, run)
    emit(
        f"Exclusions, {scope}",
        EXCLUSION_COLUMNS,
        _exclusion_rows(found),
        found,
        json_output=json_output,
        csv_output=csv_output,
    )


@exclusions_app.command("remove")
def remove_exclusion(
    exclusion_id: Annotated[str, typer.Argument(help="The id `exclusions list` shows.")],
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Remove an excluded period (uptime counts its outages again)."""
    request = pb.RemoveExclusionRequest(id=exclusion_id)

    async def run(channel: grpc.aio.Channel) -> pb.RemoveExclusionReply:
        reply: pb.RemoveExclusionReply = await AnalyticsStub(channel).RemoveExclusion(request)
        return reply

    call("analytics", address, token, var_dir, run)
    typer.echo(f"removed exclusion {exclusion_id}")


def register(app: typer.Typer) -> None:
    app.command("utilization")(utilization)
    app.command("uptime")(uptime)
    app.command("status")(status)
    app.add_typer(exclusions_app, name="exclusions")
