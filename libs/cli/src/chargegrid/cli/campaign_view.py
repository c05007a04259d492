"""How a campaign is shown: its summary, its stations, and a live progress bar while it runs.

`finish` turns the campaign's end into the exit code: 1 when a station failed or the
campaign was aborted.
"""

from __future__ import annotations

import json

import grpc
import typer
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.cli.firmware_common import (
    WATCH_DEADLINE_S,
    campaign_state_label,
    fail,
    stub,
    update_state_label,
)
from chargegrid.cli.output import as_dict, fields, out, table
from chargegrid.cli.sessions_cmd import when


def target_label(target: pb.CampaignTarget) -> str:
    if target.station_ids:
        return f"{len(target.station_ids)} station(s): {', '.join(target.station_ids)}"
    parts = [
        f"{name} {value}"
        for name, value in (
            ("site", target.site_id),
            ("vendor", target.vendor),
            ("model", target.model),
            ("now on", target.current_version),
        )
        if value
    ]
    return ", ".join(parts)


def counts_label(c: pb.Campaign, colour: bool = False) -> str:
    ok, bad, end = ("[green]", "[red]", "[/]") if colour else ("", "", "")
    return (
        f"queued {c.queued} · in progress {c.in_progress} · {ok}succeeded {c.succeeded}{end} · "
        f"{bad}failed {c.failed}{end} · skipped {c.skipped}"
    )


def show_campaign(c: pb.Campaign) -> None:
    window = f"{c.window_start}-{c.window_end}" if c.window_start else "any time"
    fields(
        f"campaign {c.id}",
        [
            ("image", c.image_id),
            ("state", campaign_state_label(c.state)),
            ("starts", when(c.starts_at) or "at once"),
            ("target", target_label(c.target)),
            ("max in flight", c.max_in_flight),
            ("window", window),
            ("retries", f"{c.retries}, {c.retry_interval_s} s apart" if c.retries else "none"),
            ("install at", when(c.install_at) or "now"),
            ("force", "yes" if c.force else "no"),
            ("station timeout", f"{c.station_timeout_s} s" if c.station_timeout_s else ""),
            ("stations", counts_label(c)),
            ("created", when(c.created_at)),
        ],
    )


def station_table(c: pb.Campaign) -> None:
    table(
        f"{len(c.stations)} station(s)",
        ["station", "state", "detail", "attempts"],
        ([s.station_id, update_state_label(s.state), s.detail, s.attempts] for s in c.stations),
    )


def progress_view(progress: Progress, campaign: pb.Campaign | None) -> Group:
    counts = Text.from_markup(counts_label(campaign, colour=True)) if campaign else Text("")
    return Group(progress, counts)


async def watch(
    channel: grpc.aio.Channel, campaign_id: str, json_lines: bool
) -> pb.Campaign | None:
    """Follows the campaign until it ends: a progress bar, or one JSON line per change."""
    request = pb.GetCampaignRequest(campaign_id=campaign_id)
    # The channel's default deadline would end a watch after 30 s.
    stream = stub(channel).WatchCampaign(request, timeout=WATCH_DEADLINE_S)
    last: pb.Campaign | None = None
    if json_lines:
        async for campaign in stream:
            print(json.dumps(as_dict(campaign), separators=(",", ":")), flush=True)
            last = campaign
        return last
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
    )
    task = progress.add_task(f"campaign {campaign_id}", total=None)
    with Live(progress_view(progress, None), console=out, refresh_per_second=4) as live:
        async for campaign in stream:
            last = campaign
            done = campaign.succeeded + campaign.failed + campaign.skipped
            total = max(len(campaign.stations), done + campaign.queued + campaign.in_progress)
            state = campaign_state_label(campaign.state)
            progress.update(
                task, total=total, completed=done, description=f"campaign {campaign.id} {state}"
            )
            live.update(progress_view(progress, campaign))
    if not out.is_terminal:
        out.line()  # Live leaves its last line open when it is not drawing on a terminal.
    return last


def finish(campaign: pb.Campaign | None, json_lines: bool) -> None:
    """The per-station results; exit 1 when a station failed or the campaign was aborted."""
    if campaign is None:
        fail("the firmware service ended the watch without sending the campaign")
    if not json_lines:
        station_table(campaign)
    aborted = campaign.state == pb.CAMPAIGN_STATE_ABORTED
    failed = campaign.failed or any(s.state == pb.UPDATE_STATE_FAILED for s in campaign.stations)
    if aborted or failed:
        raise typer.Exit(1)
