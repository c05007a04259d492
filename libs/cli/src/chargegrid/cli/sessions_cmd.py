"""`chargegrid sessions ...`: charging sessions from the terminal (list, show, end, watch)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp
from rich.live import Live
from rich.table import Table

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.session.v1.session_pb2_grpc import SessionsStub
from chargegrid.api.transaction.v1.events_pb2 import MeterSample
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call, paged
from chargegrid.cli.output import as_dict, enum_label, fields, out, print_json, table

if TYPE_CHECKING:
    from chargegrid.api.session.v1.session_pb2_grpc import SessionsAsyncStub

sessions_app = typer.Typer(help="Charging sessions: list, inspect, watch live.")

STATUS = {
    "active": pb.SESSION_STATUS_ACTIVE,
    "completed": pb.SESSION_STATUS_COMPLETED,
    "interrupted": pb.SESSION_STATUS_INTERRUPTED,
}
PAGE = 500
#: `--id-token`, as in `cdrs`; `--token` is the API token.
IdTokenFilter = Annotated[str | None, typer.Option("--id-token", help="Only this id token.")]
#: The spelling of earlier releases, kept so that scripts do not break.
OldIdTokenFilter = Annotated[str | None, typer.Option("--token-id", hidden=True)]
#: A watch runs until stopped; a deadline is still needed to override the default one.
WATCH_DEADLINE_S = 365 * 24 * 3600.0


def _stub(channel: grpc.aio.Channel) -> SessionsAsyncStub:
    return SessionsStub(channel)


def when(stamp: Timestamp) -> str:
    return stamp.ToJsonString() if stamp.seconds or stamp.nanos else ""


def status_label(value: pb.SessionStatus.ValueType) -> str:
    return enum_label(pb.SessionStatus.Name(value), "SESSION_STATUS_")


def kwh(wh: float) -> str:
    return f"{wh / 1000:.3f}"


def kw(watts: float) -> str:
    return f"{watts / 1000:.1f}"


def timestamp_option(value: str | None, hint: str) -> Timestamp | None:
    """An ISO 8601 time (UTC when no offset is given) as a Timestamp."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "an ISO 8601 time, e.g. 2026-11-02T08:00", param_hint=hint
        ) from None
    stamp = Timestamp()
    stamp.FromDatetime(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    return stamp


def session_row(s: pb.Session) -> list[object]:
    return [
        s.id,
        s.site_id,
        f"{s.evse_id}/{s.connector_id}",
        s.id_token.id,
        status_label(s.status),
        when(s.started_at),
        when(s.ended_at),
        kwh(s.energy_wh),
        kw(s.peak_power_w),
        s.stop_reason,
    ]


@sessions_app.command("list")
def list_sessions(
    station: Annotated[str | None, typer.Option(help="Only this station.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    id_token: IdTokenFilter = None,
    old_id_token: OldIdTokenFilter = None,
    status: Annotated[str | None, typer.Option(help="active, completed or interrupted.")] = None,
    since: Annotated[str | None, typer.Option(help="Started at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Started before (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many sessions (0 = all).")] = 0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Sessions matching the filters, newest first."""
    if status is not None and status.lower() not in STATUS:
        raise typer.BadParameter("active, completed or interrupted", param_hint="--status")
    request = pb.ListSessionsRequest(
        station_id=station or "",
        site_id=site or "",
        id_token=id_token or old_id_token or "",
        status=STATUS[status.lower()] if status else pb.SESSION_STATUS_UNSPECIFIED,
    )
    if (start := timestamp_option(since, "--since")) is not None:
        request.since.CopyFrom(start)
    if (end := timestamp_option(until, "--until")) is not None:
        request.until.CopyFrom(end)

    async def fetch(channel: grpc.aio.Channel) -> list[pb.Session]:
        stub = _stub(channel)
        return await paged(stub.ListSessions, request, "sessions", PAGE, limit or None)

    sessions = call("session", address, token, var_dir, fetch)
    if json_output:
        print_json([as_dict(s) for s in sessions])
        return
    table(
        f"{len(sessions)} session(s)",
        [
            "id",
            "site",
            "evse/conn",
            "token",
            "status",
            "started",
            "ended",
            "kWh",
            "peak kW",
            "stop",
        ],
        (session_row(s) for s in sessions),
    )


def samples_summary(samples: list[MeterSample]) -> list[dict[str, object]]:
    """Per measurand and phase: count, first and last time, min, max and last value."""
    groups: dict[tuple[str, str], list[MeterSample]] = defaultdict(list)
    for sample in samples:
        groups[(sample.measurand, sample.phase)].append(sample)
    summary: list[dict[str, object]] = []
    for (measurand, phase), group in sorted(groups.items()):
        values = [s.value for s in group]
        summary.append(
            {
                "measurand": measurand,
                "phase": phase,
                "unit": group[-1].unit,
                "count": len(group),
                "first": when(group[0].timestamp),
                "last": when(group[-1].timestamp),
                "min": min(values),
                "max": max(values),
                "last_value": values[-1],
            }
        )
    return summary


@sessions_app.command("show")
def show_session(
    session_id: Annotated[str, typer.Argument(help="Session id (STATION:TRANSACTION).")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """One session with a summary of its meter samples."""

    async def fetch(channel: grpc.aio.Channel) -> tuple[pb.Session, list[MeterSample]]:
        stub = _stub(channel)
        session: pb.Session = await stub.GetSession(pb.GetSessionRequest(session_id=session_id))
        request = pb.MeterSamplesRequest(session_id=session_id)
        samples: list[MeterSample] = await paged(stub.MeterSamples, request, "samples", 1000)
        return session, samples

    session, samples = call("session", address, token, var_dir, fetch)
    summary = samples_summary(samples)
    if json_output:
        print_json({"session": as_dict(session), "samples": summary})
        return
    fields(
        f"session {session.id}",
        [
            ("station", session.station_id),
            ("site", session.site_id),
            ("evse / connector", f"{session.evse_id} / {session.connector_id}"),
            ("transaction", session.transaction_id),
            ("id token", f"{session.id_token.id} ({session.id_token.type})"),
            ("status", status_label(session.status)),
            ("started", when(session.started_at)),
            ("ended", when(session.ended_at)),
            ("meter start / stop", f"{session.meter_start_wh:g} / {session.meter_stop_wh:g} Wh"),
            ("energy", f"{kwh(session.energy_wh)} kWh"),
            ("peak power", f"{kw(session.peak_power_w)} kW"),
            ("charging", f"{session.charging_s} s"),
            ("stop reason", session.stop_reason),
            ("offline data", "yes" if session.offline_data else "no"),
            ("missing events", str(session.missing_events)),
        ],
    )
    table(
        f"{len(samples)} meter sample(s)",
        ["measurand", "phase", "unit", "count", "first", "last", "min", "max", "last value"],
        (
            [
                g["measurand"],
                g["phase"],
                g["unit"],
                g["count"],
                g["first"],
                g["last"],
                g["min"],
                g["max"],
                g["last_value"],
            ]
            for g in summary
        ),
    )


def live_table(active: dict[str, pb.Session]) -> Table:
    view = Table(title=f"{len(active)} active session(s)", title_justify="left")
    for column in ["id", "site", "evse/conn", "token", "started", "kWh", "kW", "peak kW", "SoC %"]:
        view.add_column(column)
    for s in sorted(active.values(), key=lambda s: s.id):
        view.add_row(
            s.id,
            s.site_id,
            f"{s.evse_id}/{s.connector_id}",
            s.id_token.id,
            when(s.started_at),
            kwh(s.energy_wh),
            kw(s.power_w),
            kw(s.peak_power_w),
            f"{s.soc_percent:g}" if s.soc_percent else "",
        )
    return view


def change_line(change: pb.SessionChange) -> str:
    """One line per change, for a watch that goes to a pipe or a file."""
    s = change.session
    return "  ".join(
        [
            change.kind,
            s.id,
            status_label(s.status),
            f"site={s.site_id}",
            f"evse/conn={s.evse_id}/{s.connector_id}",
            f"token={s.id_token.id}",
            f"kWh={kwh(s.energy_wh)}",
            f"kW={kw(s.power_w)}",
        ]
    )


def apply_change(active: dict[str, pb.Session], change: pb.SessionChange) -> None:
    if change.session.status == pb.SESSION_STATUS_ACTIVE and change.kind != "closed":
        active[change.session.id] = change.session
    else:
        active.pop(change.session.id, None)


@sessions_app.command("end")
def end_session(
    session_id: Annotated[str, typer.Argument(help="Session id (STATION:TRANSACTION).")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """End a session the station lost (or never stops): closed interrupted, billed once."""

    async def end(channel: grpc.aio.Channel) -> pb.Session:
        ended: pb.Session = await _stub(channel).EndSession(
            pb.EndSessionRequest(session_id=session_id)
        )
        return ended

    ended = call("session", address, token, var_dir, end)
    if json_output:
        print_json(as_dict(ended))
        return
    out.print(
        f"session {ended.id} ended ({status_label(ended.status)}, {kwh(ended.energy_wh)} kWh)"
    )


@sessions_app.command("watch")
def watch_sessions(
    station: Annotated[str | None, typer.Option(help="Only this station.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON line per change instead of a live table.")
    ] = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Active sessions with their energy and power, updated live (Ctrl-C to stop)."""
    request = pb.WatchSessionsRequest(station_id=station or "", site_id=site or "", snapshot=True)

    async def follow(channel: grpc.aio.Channel) -> None:
        # The channel's default deadline would end a watch after 30 s.
        stream = _stub(channel).WatchSessions(request, timeout=WATCH_DEADLINE_S)
        active: dict[str, pb.Session] = {}
        if json_output:
            async for change in stream:
                print(json.dumps(as_dict(change), separators=(",", ":")), flush=True)
            return
        if not out.is_terminal:
            # A live table is only drawn on a terminal: piped, it would print nothing at all.
            async for change in stream:
                print(change_line(change), flush=True)
            return
        with Live(live_table(active), console=out, refresh_per_second=4) as live:
            async for change in stream:
                apply_change(active, change)
                live.update(live_table(active))

    try:
        call("session", address, token, var_dir, follow)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
