"""`chargegrid firmware campaigns ...`: one image to a fleet, a few stations at a time.

Targets are `--station ID` (repeatable) or a selection (`--site`, `--vendor`, `--model`,
`--current-version`), never both. `watch` follows a campaign live until it ends, then prints
each station's result and exits 1 when a station failed or the campaign was aborted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import grpc
import typer

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call
from chargegrid.cli.campaign_view import finish, show_campaign, station_table, watch
from chargegrid.cli.firmware_common import (
    PAGE,
    SERVICE,
    ForceOption,
    InstallAtOption,
    all_pages,
    campaign_state_label,
    fail,
    install_at,
    stub,
)
from chargegrid.cli.output import as_dict, print_json, table
from chargegrid.cli.sessions_cmd import timestamp_option, when

campaigns_app = typer.Typer(help="Firmware campaigns: many stations, a few at a time.")

_WINDOW = re.compile(r"^((?:[01]\d|2[0-3]):[0-5]\d)-((?:[01]\d|2[0-3]):[0-5]\d)$")
CampaignId = Annotated[str, typer.Argument(help="Campaign id.")]


def parse_window(value: str | None) -> tuple[str, str]:
    """`"22:00-05:00"` -> `("22:00", "05:00")`; no window = any time."""
    if value is None:
        return "", ""
    found = _WINDOW.match(value.strip())
    if found is None:
        raise typer.BadParameter("HH:MM-HH:MM, e.g. 01:00-05:00", param_hint="--window")
    start, end = found.groups()
    if start == end:
        raise typer.BadParameter("the window is empty (start = end)", param_hint="--window")
    return start, end


def target_from(
    stations: list[str],
    site: str | None,
    vendor: str | None,
    model: str | None,
    current_version: str | None,
) -> pb.CampaignTarget:
    selection = {"site_id": site, "vendor": vendor, "model": model}
    selection["current_version"] = current_version
    if stations and any(selection.values()):
        raise typer.BadParameter(
            "give --station IDs or a selection (--site/--vendor/--model/--current-version), "
            "not both"
        )
    if not stations and not any(selection.values()):
        raise typer.BadParameter(
            "give --station ID (repeatable) or --site/--vendor/--model/--current-version"
        )
    chosen = {name: value for name, value in selection.items() if value}
    return pb.CampaignTarget(station_ids=list(dict.fromkeys(stations)), **chosen)


def watch_and_finish(
    campaign_id: str,
    json_lines: bool,
    address: str | None,
    token: str | None,
    var_dir: Path,
) -> None:
    async def follow(channel: grpc.aio.Channel) -> pb.Campaign | None:
        return await watch(channel, campaign_id, json_lines)

    try:
        last = call(SERVICE, address, token, var_dir, follow)
    except KeyboardInterrupt:
        fail("stopped watching; the campaign goes on", 130)
    finish(last, json_lines)


@campaigns_app.command("create")
def create_campaign(
    image: Annotated[str, typer.Option("--image", help="Catalog image id.")],
    station: Annotated[
        list[str] | None, typer.Option("--station", help="Station id (repeatable).")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Stations of this site.")] = None,
    vendor: Annotated[str | None, typer.Option("--vendor", help="Stations of this vendor.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Stations of this model.")] = None,
    current_version: Annotated[
        str | None, typer.Option("--current-version", help="Stations now on this version.")
    ] = None,
    max_in_flight: Annotated[
        int | None, typer.Option("--max-in-flight", min=1, help="Stations updating at once.")
    ] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="HH:MM-HH:MM in which updates may start.")
    ] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Retries per station.")] = 0,
    retry_interval: Annotated[
        int, typer.Option("--retry-interval", min=0, help="Seconds before a retry.")
    ] = 0,
    install: InstallAtOption = None,
    start_at: Annotated[
        str | None,
        typer.Option(
            "--start-at",
            help="Start then, not now: SCHEDULED until (ISO 8601; no offset = UTC).",
        ),
    ] = None,
    force: ForceOption = False,
    station_timeout: Annotated[
        int,
        typer.Option(
            "--station-timeout",
            min=0,
            help="Seconds a silent station may take (0: the service default).",
        ),
    ] = 0,
    campaign_id: Annotated[
        str | None, typer.Option("--id", help="Campaign id (default: new).")
    ] = None,
    then_watch: Annotated[
        bool, typer.Option("--watch", help="Follow it until it ends (as `campaigns watch`).")
    ] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Start a campaign: one image to many stations."""
    window_start, window_end = parse_window(window)
    campaign = pb.Campaign(
        id=campaign_id or "",
        image_id=image,
        target=target_from(station or [], site, vendor, model, current_version),
        max_in_flight=max_in_flight or 0,
        window_start=window_start,
        window_end=window_end,
        retries=retries,
        retry_interval_s=retry_interval,
        force=force,
        station_timeout_s=station_timeout,
    )
    install_at(install, campaign)
    if (starts := timestamp_option(start_at, "--start-at")) is not None:
        campaign.starts_at.CopyFrom(starts)

    async def create(channel: grpc.aio.Channel) -> pb.Campaign:
        return await stub(channel).CreateCampaign(pb.CreateCampaignRequest(campaign=campaign))

    created = call(SERVICE, address, token, var_dir, create)
    if json_output and not then_watch:
        print_json(as_dict(created))
    elif not json_output:
        show_campaign(created)
    if then_watch:
        watch_and_finish(created.id, json_output, address, token, var_dir)


@campaigns_app.command("list")
def list_campaigns(
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Every campaign (all pages)."""

    async def fetch(channel: grpc.aio.Channel) -> list[pb.Campaign]:
        async def page(page_token: str) -> tuple[list[pb.Campaign], str]:
            request = pb.ListCampaignsRequest(
                page=PageRequest(page_size=PAGE, page_token=page_token)
            )
            reply = await stub(channel).ListCampaigns(request)
            return list(reply.campaigns), reply.next_page_token

        return await all_pages(page)

    campaigns = call(SERVICE, address, token, var_dir, fetch)
    if json_output:
        print_json([as_dict(c) for c in campaigns])
        return
    table(
        f"{len(campaigns)} campaign(s)",
        ["id", "image", "state", "stations", "succeeded", "failed", "skipped", "created"],
        (
            [
                c.id,
                c.image_id,
                campaign_state_label(c.state),
                len(c.stations),
                c.succeeded,
                c.failed,
                c.skipped,
                when(c.created_at),
            ]
            for c in campaigns
        ),
    )


@campaigns_app.command("show")
def show(
    campaign_id: CampaignId,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """One campaign: its settings, counts and every station's state."""

    async def fetch(channel: grpc.aio.Channel) -> pb.Campaign:
        return await stub(channel).GetCampaign(pb.GetCampaignRequest(campaign_id=campaign_id))

    campaign = call(SERVICE, address, token, var_dir, fetch)
    if json_output:
        print_json(as_dict(campaign))
        return
    show_campaign(campaign)
    station_table(campaign)


@campaigns_app.command("watch")
def watch_campaign(
    campaign_id: CampaignId,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON line per change instead of a progress bar.")
    ] = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Follow a campaign live until it ends; exit 1 if a station failed or it was aborted."""
    watch_and_finish(campaign_id, json_output, address, token, var_dir)


def _control(
    action: str,
    campaign_id: str,
    json_output: bool,
    address: str | None,
    token: str | None,
    var_dir: Path,
) -> None:
    async def send(channel: grpc.aio.Channel) -> pb.Campaign:
        firmware = stub(channel)
        method = {
            "pause": firmware.PauseCampaign,
            "resume": firmware.ResumeCampaign,
            "abort": firmware.AbortCampaign,
        }[action]
        return await method(pb.GetCampaignRequest(campaign_id=campaign_id))

    campaign = call(SERVICE, address, token, var_dir, send)
    if json_output:
        print_json(as_dict(campaign))
        return
    show_campaign(campaign)


def _control_command(action: str, summary: str) -> None:
    """Register `campaigns <action> ID` (pause, resume and abort differ only in the call)."""

    def command(
        campaign_id: CampaignId,
        json_output: JsonOption = False,
        address: AddressOption = None,
        token: TokenOption = None,
        var_dir: VarDirOption = Path("var"),
    ) -> None:
        _control(action, campaign_id, json_output, address, token, var_dir)

    command.__doc__ = summary
    campaigns_app.command(action)(command)


_control_command("pause", "Start no more updates (those in progress go on).")
_control_command("resume", "Go on with a paused campaign.")
_control_command("abort", "Stop the campaign: queued stations are skipped.")
