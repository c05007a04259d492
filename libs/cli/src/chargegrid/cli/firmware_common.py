"""What the firmware, campaigns, logs and security-events commands share.

The Firmware stub, labels of its enums, the options several commands take, paging through
every page of a list, and how a station update is shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.firmware.v1.firmware_pb2_grpc import FirmwareStub
from chargegrid.cli.api import err
from chargegrid.cli.output import enum_label, fields
from chargegrid.cli.sessions_cmd import timestamp_option, when

if TYPE_CHECKING:
    from chargegrid.api.firmware.v1.firmware_pb2_grpc import FirmwareAsyncStub

T = TypeVar("T")
SERVICE = "firmware"
PAGE = 500
#: A watch runs until the campaign ends; a deadline is still needed to override the default.
WATCH_DEADLINE_S = 365 * 24 * 3600.0

StationOption = Annotated[str, typer.Option("--station", help="Station id.")]
StationFilter = Annotated[str | None, typer.Option("--station", help="Only this station.")]
InstallAtOption = Annotated[
    str | None,
    typer.Option("--install-at", help="Install at this time (ISO 8601; no offset = UTC)."),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Update even during a charging session.")
]


def stub(channel: grpc.aio.Channel) -> FirmwareAsyncStub:
    return FirmwareStub(channel)


def update_state_label(value: pb.UpdateState.ValueType) -> str:
    return enum_label(pb.UpdateState.Name(value), "UPDATE_STATE_").replace("_", " ")


def campaign_state_label(value: pb.CampaignState.ValueType) -> str:
    return enum_label(pb.CampaignState.Name(value), "CAMPAIGN_STATE_")


def install_at(value: str | None, request: pb.UpdateStationRequest | pb.Campaign) -> None:
    """Sets `install_at` from an ISO 8601 option; a bad time is a usage error (exit 2)."""
    stamp: Timestamp | None = timestamp_option(value, "--install-at")
    if stamp is not None:
        request.install_at.CopyFrom(stamp)


async def all_pages(page: Callable[[str], Awaitable[tuple[list[T], str]]]) -> list[T]:
    """Every item of a paged list: `page(token)` returns one page and the next token."""
    found: list[T] = []
    token = ""
    while True:
        items, token = await page(token)
        found.extend(items)
        if not token:
            return found


def show_update(update: pb.StationUpdate) -> None:
    fields(
        f"firmware update of {update.station_id}",
        [
            ("state", update_state_label(update.state)),
            ("detail", update.detail),
            ("request id", update.request_id),
            ("image", update.image_id),
            ("attempts", update.attempts),
            ("campaign", update.campaign_id),
            ("updated", when(update.updated_at)),
        ],
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """Ends the command with one line on stderr (as api.report_rpc_error does)."""
    err.print(f"error: {message}")
    raise typer.Exit(code)
