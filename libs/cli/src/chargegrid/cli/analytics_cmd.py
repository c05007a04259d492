"""`chargegrid analytics ...`: the network's figures from the analytics service.

Every command takes a scope (`network`, `site:ID`, `station:ID`, `evse:STATION/N`), a range
(`--from`, `--until`, ISO 8601; default the last 7 days) and a granularity (`15m`, `hour`,
`day`, `month`), and prints a table (with a small bar chart where a curve says more), or
`--csv` / `--json` for scripts. The service refuses what makes no sense and says why.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.analytics.v1.analytics_pb2_grpc import AnalyticsStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call, paged
from chargegrid.cli.output import as_dict, print_json, table

analytics_app = typer.Typer(
    help="Energy, peaks, revenue, sessions, utilization, uptime, status; rebuild."
)

PAGE = 5000
GRAINS = {
    "15m": pb.GRANULARITY_15M,
    "hour": pb.GRANULARITY_HOUR,
    "day": pb.GRANULARITY_DAY,
    "month": pb.GRANULARITY_MONTH,
}
BAR_WIDTH = 40

ScopeOption = Annotated[
    str,
    typer.Option(
        "--scope", help="network, site:ID, station:ID or evse:STATION/N.", show_default=True
    ),
]
FromOption = Annotated[
    str | None, typer.Option("--from", help="Start (ISO 8601; default 7 days ago).")
]
UntilOption = Annotated[str | None, typer.Option("--until", help="End (ISO 8601; default now).")]
GrainOption = Annotated[str, typer.Option("--granularity", "-g", help="15m, hour, day or month.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="CSV on standard output.")]


def parse_scope(text: str) -> pb.Scope:
    kind, _, rest = text.partition(":")
    if kind == "network" and not rest:
        return pb.Scope(kind=pb.SCOPE_KIND_NETWORK)
    if kind == "site" and rest:
        return pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id=rest)
    if kind == "station" and rest:
        return pb.Scope(kind=pb.SCOPE_KIND_STATION, station_id=rest)
    if kind == "evse" and "/" in rest:
        station, _, evse = rest.rpartition("/")
        if station and evse.isdigit():
            return pb.Scope(kind=pb.SCOPE_KIND_EVSE, station_id=station, evse_id=int(evse))
    raise typer.BadParameter(
        f"unknown scope {text!r}: use network, site:ID, station:ID or evse:STATION/N",
        param_hint="--scope",
    )


def _time(text: str | None, default: datetime, option: str) -> Timestamp:
    parsed = default
    if text is not None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise typer.BadParameter("an ISO 8601 time or date", param_hint=option) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(parsed)
    return stamp


def build_query(scope: str, since: str | None, until: str | None, grain: str) -> pb.AnalyticsQuery:
    if grain not in GRAINS:
        raise typer.BadParameter(
            f"unknown granularity {grain!r}: use 15m, hour, day or month",
            param_hint="--granularity",
        )
    now = datetime.now(UTC).replace(microsecond=0)
    return pb.AnalyticsQuery(
        scope=parse_scope(scope),
        start=_time(since, now - timedelta(days=7), "--from"),
        end=_time(until, now, "--until"),
        granularity=GRAINS[grain],
    )


def fetch(
    method: str,
    items: str,
    query: pb.AnalyticsQuery,
    address: str | None,
    token: str | None,
    var_dir: Path,
) -> list[Any]:
    async def run(channel: grpc.aio.Channel) -> list[Any]:
        return await paged(getattr(AnalyticsStub(channel), method), query, items, PAGE)

    return call("analytics", address, token, var_dir, run)


def bar(value: float, largest: float) -> str:
    """A bar of block characters, eighths included, as long as `value` is of `largest`."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(value / largest * BAR_WIDTH * 8)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def write_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    writer.writerows(rows)


def emit(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    items: Sequence[Any],
    *,
    json_output: bool,
    csv_output: bool,
    chart_column: int | None = None,
) -> None:
    if json_output:
        print_json([as_dict(item) for item in items])
        return
    if csv_output:
        write_csv(columns, rows)
        return
    if chart_column is None:
        table(title, columns, rows)
        return
    largest = max((float(row[chart_column]) for row in rows), default=0.0)
    table(
        title,
        [*columns, ""],
        [[*row, bar(float(row[chart_column]), largest)] for row in rows],
    )


@analytics_app.command("energy")
def energy(
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
    """Energy delivered per bucket (from meter samples), with the average power."""
    query = build_query(scope, since, until, granularity)
    buckets = fetch("Energy", "buckets", query, address, token, var_dir)
    rows = [
        [b.label, f"{b.energy_wh / 1000:.3f}", f"{b.average_power_w / 1000:.2f}"] for b in buckets
    ]
    total = sum(b.energy_wh for b in buckets) / 1000
    emit(
        f"Energy, {scope}: {total:.3f} kWh",
        ["bucket", "kWh", "avg kW"],
        rows,
        buckets,
        json_output=json_output,
        csv_output=csv_output,
        chart_column=1,
    )


@analytics_app.command("peaks")
def peaks(
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
    """The highest 15-minute average power per site and day (or month)."""
    query = build_query(scope, since, until, granularity)
    found = fetch("Peaks", "peaks", query, address, token, var_dir)
    rows = [
        [p.site_id, p.label, p.window_start.ToJsonString(), f"{p.peak_power_w / 1000:.2f}"]
        for p in found
    ]
    emit(
        f"Peaks, {scope}",
        ["site", "period", "window (UTC)", "peak kW"],
        rows,
        found,
        json_output=json_output,
        csv_output=csv_output,
        chart_column=3,
    )


@analytics_app.command("revenue")
def revenue(
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
    """Revenue from CDRs per site, day (or month), tariff and currency."""
    query = build_query(scope, since, until, granularity)
    found = fetch("Revenue", "buckets", query, address, token, var_dir)
    rows = [
        [
            b.site_id,
            b.label,
            b.tariff_id,
            b.currency,
            b.sessions,
            f"{b.energy_wh / 1000:.3f}",
            b.total_excl_vat,
            b.total_incl_vat,
        ]
        for b in found
    ]
    emit(
        f"Revenue, {scope}",
        ["site", "period", "tariff", "currency", "sessions", "kWh", "excl. VAT", "incl. VAT"],
        rows,
        found,
        json_output=json_output,
        csv_output=csv_output,
    )


@analytics_app.command("rebuild")
def rebuild(
    since: Annotated[
        str, typer.Option("--from", help="Recompute from this time or date on (ISO 8601).")
    ],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Recompute every figure from --from on out of the topics (the live path's figures)."""
    request = pb.RebuildRequest()
    getattr(request, "from").CopyFrom(_time(since, datetime.now(UTC), "--from"))

    async def run(channel: grpc.aio.Channel) -> pb.RebuildReply:
        reply: pb.RebuildReply = await AnalyticsStub(channel).Rebuild(request)
        return reply

    reply = call("analytics", address, token, var_dir, run)
    if json_output:
        print_json(as_dict(reply))
        return
    table(
        f"Rebuild from {since}",
        ["readings taken back", "CDRs taken back", "now reading as group"],
        [[reply.readings_removed, reply.cdrs_removed, reply.consumer_group]],
    )


BREAKDOWNS = {
    "time": pb.BREAKDOWN_TIME,
    "hour": pb.BREAKDOWN_HOUR_OF_DAY,
    "weekday": pb.BREAKDOWN_DAY_OF_WEEK,
}


@analytics_app.command("sessions")
def sessions(
    scope: ScopeOption = "network",
    since: FromOption = None,
    until: UntilOption = None,
    granularity: GrainOption = "day",
    by: Annotated[
        str, typer.Option("--by", help="time (per --granularity), hour (of day) or weekday.")
    ] = "time",
    csv_output: CsvOption = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Sessions: counts, energy, durations, time to start, idle after charging, and failed
    starts (tokens refused, sessions without energy flow)."""
    if by not in BREAKDOWNS:
        raise typer.BadParameter("use time, hour or weekday", param_hint="--by")
    query = build_query(scope, since, until, granularity)
    query.breakdown = BREAKDOWNS[by]
    found = fetch("SessionStats", "buckets", query, address, token, var_dir)
    rows = [
        [
            b.label,
            b.sessions,
            b.failed_starts,
            b.rejected_authorizations,
            b.no_energy_flow,
            f"{b.energy_wh / 1000:.3f}",
            f"{b.average_energy_wh / 1000:.3f}",
            f"{b.average_duration_s / 60:.1f}",
            f"{b.average_time_to_start_s / 60:.1f}",
            f"{b.average_idle_after_charging_s / 60:.1f}",
            f"{b.average_idle_s / 60:.1f}",
        ]
        for b in found
    ]
    emit(
        f"Sessions, {scope}",
        [
            "bucket",
            "sessions",
            "failed starts",
            "refused",
            "no energy",
            "kWh",
            "kWh/session",
            "avg min",
            "to start min",
            "idle after min",
            "not charging min",
        ],
        rows,
        found,
        json_output=json_output,
        csv_output=csv_output,
        chart_column=1,
    )


@analytics_app.command("users")
def users(
    scope: ScopeOption = "network",
    since: FromOption = None,
    until: UntilOption = None,
    by: Annotated[str, typer.Option("--by", help="token or group (token group).")] = "token",
    csv_output: CsvOption = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Sessions and energy per id token (or --by group: per token group), returning or new
    in the range, roaming or own; a summary line of the whole range after the table."""
    if by not in ("token", "group"):
        raise typer.BadParameter("use token or group", param_hint="--by")
    query = build_query(scope, since, until, "day")
    if by == "group":
        query.breakdown = pb.BREAKDOWN_TOKEN_GROUP

    async def run(channel: grpc.aio.Channel) -> tuple[list[Any], pb.UserSummary]:
        stub = AnalyticsStub(channel)
        replies: list[pb.UserStatsReply] = []

        async def page(request: pb.AnalyticsQuery) -> pb.UserStatsReply:
            replies.append(await stub.UserStats(request))
            return replies[-1]

        items = await paged(page, query, "groups" if by == "group" else "users", PAGE)
        return items, replies[0].summary

    found, summary = call("analytics", address, token, var_dir, run)
    if json_output:
        print_json({by + "s": [as_dict(item) for item in found], "summary": as_dict(summary)})
        return
    if by == "group":
        columns = ["token group", "tokens", "sessions", "kWh", "returning", "new"]
        rows: list[list[Any]] = [
            [
                g.group_id or "(none)",
                g.tokens,
                g.sessions,
                f"{g.energy_wh / 1000:.3f}",
                g.returning_tokens,
                g.new_tokens,
            ]
            for g in found
        ]
    else:
        columns = ["id token", "type", "group", "sessions", "kWh", "", "source"]
        rows = [
            [
                u.id_token,
                u.token_type,
                u.group_id,
                u.sessions,
                f"{u.energy_wh / 1000:.3f}",
                "returning" if u.returning else "new",
                ("roaming " if u.roaming else "own ") + (u.token_source or "?"),
            ]
            for u in found
        ]
    emit(f"Users, {scope}", columns, rows, found, json_output=False, csv_output=csv_output)
    if not csv_output:
        typer.echo(
            f"{summary.tokens} tokens ({summary.returning_tokens} returning, "
            f"{summary.new_tokens} new); own: {summary.own_tokens} tokens, "
            f"{summary.own_sessions} sessions, {summary.own_energy_wh / 1000:.3f} kWh; "
            f"roaming: {summary.roaming_tokens} tokens, {summary.roaming_sessions} sessions, "
            f"{summary.roaming_energy_wh / 1000:.3f} kWh"
        )


# Utilization, uptime, status and exclusions live in their own module, on these helpers.
from chargegrid.cli.analytics_uptime_cmd import register  # noqa: E402

register(analytics_app)
