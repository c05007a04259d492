"""`chargegrid logs ...` and `chargegrid security-events ...`: what stations upload and report.

`logs request` asks a station for its diagnostics or security log (it uploads to the firmware
service's HTTP endpoint); `logs download` fetches an uploaded one and checks its SHA-256.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import grpc
import typer
from rich.table import Table
from rich.text import Text

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.cli.api import (
    AddressOption,
    JsonOption,
    TokenOption,
    VarDirOption,
    api_token,
    call,
)
from chargegrid.cli.firmware_common import (
    PAGE,
    SERVICE,
    StationFilter,
    StationOption,
    all_pages,
    fail,
    stub,
)
from chargegrid.cli.log_download import download_url, fetch, target_file
from chargegrid.cli.output import as_dict, fields, out, print_json, table
from chargegrid.cli.sessions_cmd import timestamp_option, when

logs_app = typer.Typer(help="Diagnostics and security logs: request, list, download.")
security_events_app = typer.Typer(help="Security events stations reported.")

KINDS = ("diagnostics", "security")


async def _logs(channel: grpc.aio.Channel, station: str, wanted: str = "") -> list[pb.LogFile]:
    """Every log file (of one station), or only up to the page with the id `wanted`."""

    async def page(page_token: str) -> tuple[list[pb.LogFile], str]:
        request = pb.ListLogsRequest(
            station_id=station, page=PageRequest(page_size=PAGE, page_token=page_token)
        )
        reply = await stub(channel).ListLogs(request)
        more = reply.next_page_token and not any(log.id == wanted for log in reply.logs)
        return list(reply.logs), reply.next_page_token if more else ""

    return await all_pages(page)


@logs_app.command("request")
def request_logs(
    station: StationOption,
    kind: Annotated[str, typer.Option("--kind", help="diagnostics or security.")] = "diagnostics",
    oldest: Annotated[
        str | None, typer.Option("--oldest", help="Oldest entries wanted (ISO 8601).")
    ] = None,
    latest: Annotated[
        str | None, typer.Option("--latest", help="Latest entries wanted (ISO 8601).")
    ] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Ask a station to upload its diagnostics (GetDiagnostics / GetLog) or security log."""
    if kind not in KINDS:
        raise typer.BadParameter("diagnostics or security", param_hint="--kind")
    request = pb.RequestLogsRequest(station_id=station, kind=kind)
    first, last = timestamp_option(oldest, "--oldest"), timestamp_option(latest, "--latest")
    if first is not None:
        request.oldest.CopyFrom(first)
    if last is not None:
        request.latest.CopyFrom(last)
    if first is not None and last is not None and first.ToDatetime() > last.ToDatetime():
        raise typer.BadParameter("--oldest is after --latest")

    async def send(channel: grpc.aio.Channel) -> pb.LogFile:
        return await stub(channel).RequestLogs(request)

    log = call(SERVICE, address, token, var_dir, send)
    if json_output:
        print_json(as_dict(log))
        return
    fields(
        f"log file {log.id}",
        [
            ("station", log.station_id),
            ("kind", log.kind),
            ("status", log.status),
            ("request id", log.request_id),
            ("file name", log.file_name),
        ],
    )
    out.print(f"once uploaded: chargegrid logs download {log.id}")


@logs_app.command("list")
def list_logs(
    station: StationFilter = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Requested and uploaded log files (all pages)."""

    async def fetch_all(channel: grpc.aio.Channel) -> list[pb.LogFile]:
        return await _logs(channel, station or "")

    logs = call(SERVICE, address, token, var_dir, fetch_all)
    if json_output:
        print_json([as_dict(log) for log in logs])
        return
    table(
        f"{len(logs)} log file(s)",
        ["id", "station", "kind", "status", "file", "bytes", "requested", "uploaded"],
        (
            [
                log.id,
                log.station_id,
                log.kind,
                log.status,
                log.file_name,
                log.size_bytes if log.uploaded_at.seconds else "",
                when(log.requested_at),
                when(log.uploaded_at),
            ]
            for log in logs
        ),
    )


@logs_app.command("download")
def download(
    log_id: Annotated[str, typer.Argument(help="Log file id (see `chargegrid logs list`).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: the uploaded file's name)."),
    ] = None,
    http_url: Annotated[
        str | None,
        typer.Option(
            "--http-url",
            envvar="CHARGEGRID_FIRMWARE_PUBLIC_URL",
            help="The firmware service's HTTP base URL (default: the URL the service gives).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Download an uploaded log file and verify its SHA-256."""

    async def find(channel: grpc.aio.Channel) -> pb.LogFile | None:
        return next((log for log in await _logs(channel, "", log_id) if log.id == log_id), None)

    log = call(SERVICE, address, token, var_dir, find)
    if log is None:
        fail(f"NOT_FOUND: no log file {log_id!r}")
    url = download_url(log, http_url)
    saved = fetch(url, api_token(token, var_dir), log.sha256, target_file(log, output))
    if json_output:
        print_json({"log_id": log.id, **saved.__dict__})
        return
    check = "sha256 verified" if saved.verified else "no checksum recorded, not verified"
    out.print(f"saved {saved.file} ({saved.size_bytes} bytes, {check})")


@security_events_app.command("list")
def list_security_events(
    station: StationFilter = None,
    event_type: Annotated[
        str | None, typer.Option("--type", help="Only this type, e.g. TamperDetectionActivated.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="At or after this time (ISO 8601).")
    ] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Security events (all pages); critical ones are highlighted."""
    request = pb.ListSecurityEventsRequest(station_id=station or "", type=event_type or "")
    if (start := timestamp_option(since, "--since")) is not None:
        request.since.CopyFrom(start)

    async def fetch_all(channel: grpc.aio.Channel) -> list[pb.SecurityEvent]:
        async def page(page_token: str) -> tuple[list[pb.SecurityEvent], str]:
            request.page.CopyFrom(PageRequest(page_size=PAGE, page_token=page_token))
            reply = await stub(channel).ListSecurityEvents(request)
            return list(reply.events), reply.next_page_token

        return await all_pages(page)

    events = call(SERVICE, address, token, var_dir, fetch_all)
    if json_output:
        print_json([as_dict(e) for e in events])
        return
    critical = sum(1 for e in events if e.critical)
    view = Table(
        title=f"{len(events)} security event(s), {critical} critical", title_justify="left"
    )
    for column in ("time", "station", "type", "critical", "tech info"):
        view.add_column(column)
    for e in events:
        # Text, not markup: tech info is whatever the station sent.
        cells = [when(e.occurred_at), e.station_id, e.type, "CRITICAL" if e.critical else ""]
        view.add_row(
            *(Text(c) for c in [*cells, e.tech_info]), style="bold red" if e.critical else None
        )
    out.print(view)
    if not events:
        out.print("(none)")
