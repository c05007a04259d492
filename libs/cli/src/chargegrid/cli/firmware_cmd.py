"""`chargegrid firmware ...`: the image catalog and updating one station.

`images add` registers an image (signed firmware: a PEM signing certificate and a base64
signature, or a signature file); `update` sends it to one station now and, with `--wait`,
follows it until the station reports it installed (exit 0) or it fails (exit 1).
Fleet updates are `firmware campaigns ...` (campaigns_cmd).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from pathlib import Path
from typing import Annotated

import grpc
import typer
from rich.status import Status

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call
from chargegrid.cli.campaigns_cmd import campaigns_app
from chargegrid.cli.firmware_common import (
    PAGE,
    SERVICE,
    ForceOption,
    InstallAtOption,
    StationOption,
    all_pages,
    fail,
    install_at,
    show_update,
    stub,
    update_state_label,
)
from chargegrid.cli.output import as_dict, out, print_json, table
from chargegrid.cli.sessions_cmd import when

firmware_app = typer.Typer(help="Firmware: image catalog, station updates, campaigns.")
images_app = typer.Typer(help="The firmware image catalog.")
firmware_app.add_typer(images_app, name="images")
firmware_app.add_typer(campaigns_app, name="campaigns")

#: States after which a single-station update changes no more.
FINAL = (pb.UPDATE_STATE_SUCCEEDED, pb.UPDATE_STATE_FAILED, pb.UPDATE_STATE_SKIPPED)
VendorFilter = Annotated[str | None, typer.Option("--vendor", help="Vendor.")]
ModelFilter = Annotated[str | None, typer.Option("--model", help="Model (empty: every model).")]


def read_certificate(path: Path) -> str:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(
            f"cannot read {path}: {exc}", param_hint="--signing-certificate"
        ) from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise typer.BadParameter(
            f"{path} is not a PEM certificate", param_hint="--signing-certificate"
        )
    return text


def read_signature(text: str | None, file: Path | None) -> str:
    """The signature as base64: given as text, or a file holding it as base64 or raw bytes."""
    if text is not None and file is not None:
        raise typer.BadParameter("give --signature or --signature-file, not both")
    if file is not None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise typer.BadParameter(
                f"cannot read {file}: {exc}", param_hint="--signature-file"
            ) from None
        try:
            stripped = raw.decode("ascii").strip()
            base64.b64decode(stripped, validate=True)
            return stripped
        except (UnicodeDecodeError, binascii.Error):
            return base64.b64encode(raw).decode("ascii")
    if text is None:
        return ""
    try:
        base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise typer.BadParameter("not base64", param_hint="--signature") from None
    return text.strip()


def image_row(image: pb.FirmwareImage) -> list[object]:
    signed = "yes" if image.signature else "no"
    return [image.id, image.version, image.vendor, image.model, image.location, signed]


@images_app.command("add")
def add_image(
    version: Annotated[str, typer.Option("--version", help="Firmware version it installs.")],
    location: Annotated[str, typer.Option("--location", help="URL stations download from.")],
    vendor: VendorFilter = None,
    model: ModelFilter = None,
    certificate: Annotated[
        Path | None,
        typer.Option("--signing-certificate", help="PEM signing certificate (signed firmware)."),
    ] = None,
    signature: Annotated[
        str | None, typer.Option("--signature", help="Base64 signature (signed firmware).")
    ] = None,
    signature_file: Annotated[
        Path | None, typer.Option("--signature-file", help="Signature file (raw or base64).")
    ] = None,
    image_id: Annotated[str | None, typer.Option("--id", help="Image id (default: new).")] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Add a firmware image to the catalog."""
    image = pb.FirmwareImage(
        id=image_id or "",
        version=version,
        vendor=vendor or "",
        model=model or "",
        location=location,
        signing_certificate=read_certificate(certificate) if certificate else "",
        signature=read_signature(signature, signature_file),
    )
    if bool(image.signature) != bool(image.signing_certificate):
        raise typer.BadParameter(
            "signed firmware needs both --signing-certificate and --signature(-file)"
        )

    async def add(channel: grpc.aio.Channel) -> pb.FirmwareImage:
        return await stub(channel).AddImage(pb.AddImageRequest(image=image))

    added = call(SERVICE, address, token, var_dir, add)
    if json_output:
        print_json(as_dict(added))
        return
    table(
        f"image {added.id} added",
        ["id", "version", "vendor", "model", "location", "signed"],
        [image_row(added)],
    )


@images_app.command("list")
def list_images(
    vendor: VendorFilter = None,
    model: ModelFilter = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Images in the catalog (all pages)."""

    async def fetch(channel: grpc.aio.Channel) -> list[pb.FirmwareImage]:
        async def page(page_token: str) -> tuple[list[pb.FirmwareImage], str]:
            reply = await stub(channel).ListImages(
                pb.ListImagesRequest(
                    vendor=vendor or "",
                    model=model or "",
                    page=PageRequest(page_size=PAGE, page_token=page_token),
                )
            )
            return list(reply.images), reply.next_page_token

        return await all_pages(page)

    images = call(SERVICE, address, token, var_dir, fetch)
    if json_output:
        print_json([as_dict(i) for i in images])
        return
    table(
        f"{len(images)} image(s)",
        ["id", "version", "vendor", "model", "location", "signed", "created"],
        ([*image_row(i), when(i.created_at)] for i in images),
    )


async def follow(
    channel: grpc.aio.Channel, sent: pb.StationUpdate, interval: float, quiet: bool
) -> pb.StationUpdate:
    """Polls the station's update until it ends (or another update replaces it)."""
    update = sent
    status = Status("waiting for the station", console=out)
    if not quiet:
        status.start()
    try:
        while update.state not in FINAL and update.request_id == sent.request_id:
            status.update(f"{update_state_label(update.state)} {update.detail}".strip())
            await asyncio.sleep(interval)
            request = pb.GetStationUpdateRequest(station_id=sent.station_id)
            update = await stub(channel).GetStationUpdate(request)
    finally:
        status.stop()
    if update.request_id != sent.request_id:
        fail(f"another update (request {update.request_id}) replaced this one", 1)
    return update


@firmware_app.command("update")
def update_station(
    station: StationOption,
    url: Annotated[str | None, typer.Option("--url", help="Firmware location (URL).")] = None,
    image: Annotated[str | None, typer.Option("--image", help="A catalog image id.")] = None,
    install: InstallAtOption = None,
    force: ForceOption = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until it succeeded (exit 0) or failed (exit 1).")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.01, help="Seconds between polls (--wait).")
    ] = 5.0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Update one station's firmware now, from a catalog image or a URL."""
    if bool(url) == bool(image):
        raise typer.BadParameter("give either --url or --image")
    request = pb.UpdateStationRequest(
        station_id=station, image_id=image or "", location=url or "", force=force
    )
    install_at(install, request)

    async def send(channel: grpc.aio.Channel) -> pb.StationUpdate:
        sent = await stub(channel).UpdateStation(request)
        if not wait:
            return sent
        if not json_output:
            show_update(sent)
        return await follow(channel, sent, poll_interval, quiet=json_output)

    try:
        update = call(SERVICE, address, token, var_dir, send)
    except KeyboardInterrupt:
        fail("stopped waiting; the update goes on (see `chargegrid firmware status`)", 130)
    if json_output:
        print_json(as_dict(update))
    else:
        show_update(update)
    if wait and update.state != pb.UPDATE_STATE_SUCCEEDED:
        raise typer.Exit(1)


@firmware_app.command("status")
def update_status(
    station: StationOption,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """The station's latest firmware update."""

    async def fetch(channel: grpc.aio.Channel) -> pb.StationUpdate:
        request = pb.GetStationUpdateRequest(station_id=station)
        return await stub(channel).GetStationUpdate(request)

    update = call(SERVICE, address, token, var_dir, fetch)
    if json_output:
        print_json(as_dict(update))
        return
    show_update(update)
