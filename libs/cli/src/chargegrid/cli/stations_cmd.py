"""`chargegrid stations ...` and `chargegrid sites ...`: the registry, from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.station.v1.events_pb2 import ConnectorStatus
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.cli.api import (
    AddressOption,
    JsonOption,
    TokenOption,
    VarDirOption,
    call,
    err,
    paged,
)
from chargegrid.cli.output import as_dict, enum_label, fields, out, print_json, table

if TYPE_CHECKING:
    from chargegrid.api.stations.v1.stations_pb2_grpc import StationsAsyncStub

stations_app = typer.Typer(help="Stations of the network: list, inspect, approve, passwords.")
sites_app = typer.Typer(help="Sites (locations) that group stations.")

REGISTRATION = {
    "pending": pb.REGISTRATION_STATUS_PENDING,
    "accepted": pb.REGISTRATION_STATUS_ACCEPTED,
    "rejected": pb.REGISTRATION_STATUS_REJECTED,
}
PAGE = 500
#: Push answers after which the stations service stores the new password (as it does).
PASSWORD_STORED_AFTER = frozenset({"Accepted", "RebootRequired"})


def when(stamp: Timestamp) -> str:
    return stamp.ToJsonString() if stamp.seconds or stamp.nanos else ""


def registration(value: pb.RegistrationStatus.ValueType) -> str:
    return enum_label(pb.RegistrationStatus.Name(value), "REGISTRATION_STATUS_")


def connector_status(value: ConnectorStatus.ValueType) -> str:
    return enum_label(ConnectorStatus.Name(value), "CONNECTOR_STATUS_")


def ocpp_version(value: int) -> str:
    return {1: "1.6", 2: "2.0.1", 3: "2.1"}.get(value, "")


def _stub(channel: grpc.aio.Channel) -> StationsAsyncStub:
    return StationsStub(channel)


@stations_app.command("list")
def list_stations(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Registration: pending, accepted or rejected.")
    ] = None,
    online: Annotated[
        bool | None, typer.Option("--online/--offline", help="Only online / offline stations.")
    ] = None,
    vendor: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    firmware: Annotated[str | None, typer.Option(help="Only this firmware version.")] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Every station matching the filters (all pages)."""
    if status is not None and status.lower() not in REGISTRATION:
        raise typer.BadParameter("pending, accepted or rejected", param_hint="--status")
    request = pb.ListStationsRequest(
        site_id=site or "",
        registration_status=REGISTRATION[status.lower()] if status else 0,  # type: ignore[arg-type]
        online="" if online is None else ("online" if online else "offline"),
        vendor=vendor or "",
        model=model or "",
        firmware_version=firmware or "",
    )

    async def fetch(channel: grpc.aio.Channel) -> list[pb.Station]:
        return await paged(_stub(channel).ListStations, request, "stations", PAGE)

    stations = call("stations", address, token, var_dir, fetch)
    if json_output:
        print_json([as_dict(station) for station in stations])
        return
    table(
        f"{len(stations)} station(s)",
        ["id", "site", "registration", "online", "vendor", "model", "firmware", "ocpp", "seen"],
        (
            [
                s.id,
                s.site_id,
                registration(s.registration_status),
                "yes" if s.online else "no",
                s.vendor,
                s.model,
                s.firmware_version,
                ocpp_version(s.ocpp_version),
                when(s.last_seen),
            ]
            for s in stations
        ),
    )


@stations_app.command("show")
def show_station(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """One station with its connectors and their live status."""

    async def fetch(channel: grpc.aio.Channel) -> pb.Station:
        reply: pb.Station = await _stub(channel).GetStation(
            pb.GetStationRequest(station_id=station_id)
        )
        return reply

    station = call("stations", address, token, var_dir, fetch)
    if json_output:
        print_json(as_dict(station))
        return
    fields(
        f"station {station.id}",
        [
            ("site", station.site_id),
            ("registration", registration(station.registration_status)),
            ("online", "yes" if station.online else "no"),
            ("gateway pod", station.gateway_pod),
            ("vendor / model", f"{station.vendor} / {station.model}"),
            ("serial", station.serial_number),
            ("firmware", station.firmware_version),
            ("ocpp", ocpp_version(station.ocpp_version)),
            ("required security profile", station.required_security_profile or "none"),
            ("last connection's profile", station.security_profile),
            ("password set", "yes" if station.has_password else "no"),
            ("heartbeat interval", f"{station.heartbeat_interval_s} s"),
            ("last seen", when(station.last_seen)),
            ("last boot", f"{when(station.last_boot_at)} {station.last_boot_reason}".strip()),
        ],
    )
    table(
        "connectors",
        ["evse", "connector", "status", "error", "type", "max kW", "since"],
        (
            [
                evse.evse_id,
                c.connector_id,
                connector_status(c.status),
                c.error_code,
                c.type,
                f"{c.max_power_w / 1000:g}" if c.max_power_w else "",
                when(c.status_at),
            ]
            for evse in station.evses
            for c in evse.connectors
        ),
    )


@stations_app.command("add")
def add_station(
    station_id: Annotated[str, typer.Argument(help="Station id (as in its OCPP URL).")],
    site: Annotated[str | None, typer.Option(help="Site id.")] = None,
    vendor: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    password: Annotated[
        str | None, typer.Option(help="Basic auth password (security profiles 1-2).")
    ] = None,
    security_profile: Annotated[
        int,
        typer.Option(
            min=0,
            max=3,
            help="Profile every connection must meet: 1 Basic over ws, 2 Basic over wss, "
            "3 client certificate (0: none; a password still requires Basic).",
        ),
    ] = 0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Register a station ahead of its first boot (it is accepted when it boots)."""
    station = pb.Station(
        id=station_id,
        site_id=site or "",
        vendor=vendor or "",
        model=model or "",
        registration_status=pb.REGISTRATION_STATUS_ACCEPTED,
        required_security_profile=security_profile,
    )

    async def create(channel: grpc.aio.Channel) -> pb.Station:
        reply: pb.Station = await _stub(channel).CreateStation(
            pb.CreateStationRequest(station=station, password=password or "")
        )
        return reply

    created = call("stations", address, token, var_dir, create)
    if json_output:
        print_json(as_dict(created))
    else:
        out.print(f"station {created.id} registered ({registration(created.registration_status)})")


@stations_app.command("approve")
def approve_station(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    site: Annotated[str | None, typer.Option(help="Put it on this site too.")] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Accept a pending (or rejected) station."""

    async def approve(channel: grpc.aio.Channel) -> pb.Station:
        reply: pb.Station = await _stub(channel).ApproveStation(
            pb.ApproveStationRequest(station_id=station_id, site_id=site or "")
        )
        return reply

    station = call("stations", address, token, var_dir, approve)
    if json_output:
        print_json(as_dict(station))
    else:
        out.print(f"station {station.id} is {registration(station.registration_status)}")


SETTABLE = ("pending", "accepted", "rejected")


@stations_app.command("set-status")
def set_status(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    status: Annotated[str, typer.Argument(help="pending, accepted or rejected.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Set the registration status the station's next boot is answered with (a connected
    station is asked to boot again)."""
    if status.lower() not in SETTABLE:
        raise typer.BadParameter("pending, accepted or rejected", param_hint="STATUS")
    request = pb.SetRegistrationStatusRequest(
        station_id=station_id,
        registration_status=REGISTRATION[status.lower()],
    )

    async def update(channel: grpc.aio.Channel) -> pb.Station:
        reply: pb.Station = await _stub(channel).SetRegistrationStatus(request)
        return reply

    station = call("stations", address, token, var_dir, update)
    if json_output:
        print_json(as_dict(station))
    else:
        out.print(f"station {station.id} is {registration(station.registration_status)}")


@stations_app.command("delete")
def delete_station(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Remove a station, its connectors and its configuration from the registry."""
    if not yes and not typer.confirm(f"delete station {station_id}?"):
        raise typer.Exit(1)

    async def delete(channel: grpc.aio.Channel) -> None:
        await _stub(channel).DeleteStation(pb.DeleteStationRequest(station_id=station_id))

    call("stations", address, token, var_dir, delete)
    out.print(f"station {station_id} deleted")


@stations_app.command("set-password")
def set_password(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    password: Annotated[
        str | None,
        typer.Option(help="The new Basic password (16-40 characters); omit to generate one."),
    ] = None,
    push: Annotated[
        bool,
        typer.Option(
            "--push/--no-push",
            help="Send it to the station first; stored only if the station accepts it "
            "(otherwise nothing changes and the command exits 1).",
        ),
    ] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Set a station's HTTP Basic password (security profiles 1 and 2)."""

    async def store(channel: grpc.aio.Channel) -> pb.SetStationPasswordReply:
        reply: pb.SetStationPasswordReply = await _stub(channel).SetStationPassword(
            pb.SetStationPasswordRequest(station_id=station_id, password=password or "", push=push)
        )
        return reply

    reply = call("stations", address, token, var_dir, store)
    changed = not push or reply.push_status in PASSWORD_STORED_AFTER
    if json_output:
        print_json({**as_dict(reply), "changed": changed})
    elif changed:
        if push:
            out.print(f"station answered: {reply.push_status}")
        if reply.generated_password:
            out.print(f"generated password (shown once): {reply.generated_password}")
        out.print(f"password of {station_id} updated")
    if not changed:
        # The service kept the old password (the station would not know the new one).
        err.print(
            f"error: password of {station_id} not changed: the station answered "
            f"{reply.push_status or 'nothing'}; retry when it is online, or set it without --push"
        )
        raise typer.Exit(1)


@sites_app.command("add")
def add_site(
    name: Annotated[str, typer.Argument(help="Site name.")],
    site_id: Annotated[
        str | None, typer.Option("--id", help="Site id (default: generated).")
    ] = None,
    address_line: Annotated[str | None, typer.Option("--street", help="Street address.")] = None,
    city: Annotated[str | None, typer.Option()] = None,
    postal_code: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2.")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    latitude: Annotated[float | None, typer.Option()] = None,
    longitude: Annotated[float | None, typer.Option()] = None,
    grid_limit_a: Annotated[
        float | None, typer.Option(help="Grid connection limit in A per phase.")
    ] = None,
    phases: Annotated[int, typer.Option(help="Grid connection phases.")] = 3,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Create a site."""
    site = pb.Site(
        id=site_id or "",
        name=name,
        address=address_line or "",
        city=city or "",
        postal_code=postal_code or "",
        country=country or "",
        timezone=timezone,
        latitude=latitude or 0.0,
        longitude=longitude or 0.0,
        grid_limit_a=grid_limit_a or 0.0,
        grid_phases=phases,
    )

    async def create(channel: grpc.aio.Channel) -> pb.Site:
        reply: pb.Site = await _stub(channel).CreateSite(pb.CreateSiteRequest(site=site))
        return reply

    created = call("stations", address, token, var_dir, create)
    if json_output:
        print_json(as_dict(created))
    else:
        out.print(f"site {created.id} ({created.name}) created")


@sites_app.command("list")
def list_sites(
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Every site (all pages)."""

    async def fetch(channel: grpc.aio.Channel) -> list[pb.Site]:
        return await paged(_stub(channel).ListSites, pb.ListSitesRequest(), "sites", PAGE)

    sites = call("stations", address, token, var_dir, fetch)
    if json_output:
        print_json([as_dict(site) for site in sites])
        return
    table(
        f"{len(sites)} site(s)",
        ["id", "name", "city", "country", "timezone", "grid limit A", "stations"],
        (
            [s.id, s.name, s.city, s.country, s.timezone, s.grid_limit_a or "", s.station_count]
            for s in sites
        ),
    )


# The block commands (reservations, alerts, display messages) register on `stations_app`.
from chargegrid.cli import stations_blocks_cmd as _blocks  # noqa: E402, F401
from chargegrid.cli import stations_monitoring_cmd as _monitoring  # noqa: E402, F401


def _add_certificates() -> None:
    from chargegrid.cli.certificates_cmd import certificates_app, upgrade_security

    stations_app.add_typer(certificates_app, name="certificates")
    stations_app.command("upgrade-security")(upgrade_security)


_add_certificates()
