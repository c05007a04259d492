"""`chargegrid stations certificates ...`: a station's trust store and its own certificates.

install / list / delete go to the station through the gateway (InstallCertificate,
GetInstalledCertificateIds, DeleteCertificate); `issued`, `ca` ask the stations service's
CSMS CA; `renew` asks the station for a new CSR (TriggerMessage
SignChargingStationCertificate). A station that answers anything but Accepted ends the
command with exit code 1 and its answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import grpc
import typer

from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call, err
from chargegrid.cli.output import as_dict, out, print_json, table

certificates_app = typer.Typer(
    help="Certificates of a station: install, list, delete roots; issued ones; renew."
)
ROOT_TYPES = (
    "CSMSRootCertificate",
    "ManufacturerRootCertificate",
    "V2GRootCertificate",
    "MORootCertificate",
)
StationArg = Annotated[str, typer.Argument(help="Station id.")]


def _outcome(reply: ctl.CommandReply, what: str, json_output: bool) -> None:
    if json_output:
        print_json(as_dict(reply))
    else:
        reason = f" ({reply.status_reason})" if reply.status_reason else ""
        out.print(f"{what}: {reply.status}{reason}")
    if reply.status != "Accepted":
        raise typer.Exit(1)


@certificates_app.command("install")
def install(
    station_id: StationArg,
    certificate_file: Annotated[
        Path | None, typer.Argument(help="PEM file; omit with --csms-ca.")
    ] = None,
    certificate_type: Annotated[
        str, typer.Option("--type", help=f"One of {', '.join(ROOT_TYPES)}.")
    ] = "CSMSRootCertificate",
    csms_ca: Annotated[bool, typer.Option(help="Install the CSMS CA of this network.")] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Install a root certificate in the station's trust store (M05)."""
    if certificate_type not in ROOT_TYPES:
        err.print(f"error: --type is one of {', '.join(ROOT_TYPES)}")
        raise typer.Exit(2)
    if (certificate_file is None) == (not csms_ca):
        err.print("error: give a certificate file or --csms-ca (not both)")
        raise typer.Exit(2)
    if certificate_file is not None:
        try:
            pem = certificate_file.read_text()
        except OSError as exc:
            err.print(f"error: cannot read {certificate_file}: {exc}")
            raise typer.Exit(2) from None
    else:

        async def authority(channel: grpc.aio.Channel) -> pb.CertificateAuthority:
            reply: pb.CertificateAuthority = await StationsStub(channel).GetCertificateAuthority(
                pb.GetCertificateAuthorityRequest()
            )
            return reply

        pem = call("stations", None, token, var_dir, authority).certificate_pem

    async def send(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).InstallCertificate(
            ctl.InstallCertificateRequest(
                station_id=station_id, certificate_type=certificate_type, certificate_pem=pem
            )
        )
        return reply

    _outcome(call("gateway", address, token, var_dir, send), "install", json_output)


@certificates_app.command("list")
def list_installed(
    station_id: StationArg,
    certificate_type: Annotated[
        list[str] | None, typer.Option("--type", help="Only these kinds (repeatable).")
    ] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """The certificates installed on the station, by hash data (M03)."""

    async def fetch(channel: grpc.aio.Channel) -> ctl.GetInstalledCertificateIdsReply:
        reply: ctl.GetInstalledCertificateIdsReply = await StationControlStub(
            channel
        ).GetInstalledCertificateIds(
            ctl.GetInstalledCertificateIdsRequest(
                station_id=station_id, certificate_types=certificate_type or []
            )
        )
        return reply

    reply = call("gateway", address, token, var_dir, fetch)
    if json_output:
        print_json(as_dict(reply))
        return
    if reply.status != "Accepted":
        out.print(f"no certificates installed ({reply.status})")
        return
    table(
        f"certificates on {station_id}",
        ("type", "serial", "issuer name hash", "issuer key hash", "hash"),
        (
            (
                entry.certificate_type,
                entry.certificate.serial_number,
                entry.certificate.issuer_name_hash,
                entry.certificate.issuer_key_hash,
                entry.certificate.hash_algorithm,
            )
            for entry in reply.certificates
        ),
    )


@certificates_app.command("delete")
def delete(
    station_id: StationArg,
    serial: Annotated[str, typer.Option(help="Serial number (hex), as `list` shows it.")],
    issuer_name_hash: Annotated[str, typer.Option(help="As `list` shows it.")],
    issuer_key_hash: Annotated[str, typer.Option(help="As `list` shows it.")],
    hash_algorithm: Annotated[str, typer.Option(help="SHA256, SHA384 or SHA512.")] = "SHA256",
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Delete an installed certificate (M04); an unknown one is NotFound, exit code 1."""

    async def send(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).DeleteCertificate(
            ctl.DeleteCertificateRequest(
                station_id=station_id,
                certificate=ctl.CertificateHashData(
                    hash_algorithm=hash_algorithm,
                    issuer_name_hash=issuer_name_hash,
                    issuer_key_hash=issuer_key_hash,
                    serial_number=serial,
                ),
            )
        )
        return reply

    _outcome(call("gateway", address, token, var_dir, send), "delete", json_output)


@certificates_app.command("issued")
def issued(
    station_id: Annotated[str, typer.Argument(help="Station id; omit for all.")] = "",
    expiring_within_days: Annotated[int, typer.Option(help="Only those expiring soon.")] = 0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Certificates the CSMS CA issued, with expiry and delivery."""

    async def fetch(channel: grpc.aio.Channel) -> pb.ListIssuedCertificatesReply:
        reply: pb.ListIssuedCertificatesReply = await StationsStub(channel).ListIssuedCertificates(
            pb.ListIssuedCertificatesRequest(
                station_id=station_id, expiring_within_days=expiring_within_days
            )
        )
        return reply

    reply = call("stations", address, token, var_dir, fetch)
    if json_output:
        print_json([as_dict(c) | {"certificate_pem": None} for c in reply.certificates])
        return
    table(
        "issued certificates",
        ("station", "type", "serial", "expires", "delivery", "renewal", "current"),
        (
            (
                c.station_id,
                c.certificate_type,
                c.serial,
                c.not_after.ToJsonString(),
                c.delivery,
                "requested" if c.renewal_requested else "",
                "no" if c.superseded else "yes",
            )
            for c in reply.certificates
        ),
    )


@certificates_app.command("renew")
def renew(
    station_id: StationArg,
    v2g: Annotated[bool, typer.Option(help="The V2G certificate instead.")] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Ask the station for a new CSR now (A02); the certificate follows when it sends one."""
    message = "SignV2GCertificate" if v2g else "SignChargingStationCertificate"

    async def send(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).TriggerMessage(
            ctl.TriggerMessageRequest(station_id=station_id, message=message)
        )
        return reply

    _outcome(call("gateway", address, token, var_dir, send), "renew", json_output)


@certificates_app.command("ca")
def show_ca(
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Print the CSMS CA certificate (PEM), e.g. for the gateway's TLS_CLIENT_CA_FILE."""

    async def fetch(channel: grpc.aio.Channel) -> pb.CertificateAuthority:
        reply: pb.CertificateAuthority = await StationsStub(channel).GetCertificateAuthority(
            pb.GetCertificateAuthorityRequest()
        )
        return reply

    print(call("stations", address, token, var_dir, fetch).certificate_pem, end="")


def upgrade_security(
    station_id: StationArg,
    profile: Annotated[int, typer.Option(help="The new security profile (1-3).")],
    url: Annotated[str, typer.Option(help="2.x: the CSMS URL of the new profile.")] = "",
    slot: Annotated[int, typer.Option(help="2.x: the network configuration slot.")] = 1,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Move a connected station to a higher security profile (A05); it is required once the
    station reconnects with it."""

    async def send(channel: grpc.aio.Channel) -> pb.UpgradeSecurityProfileReply:
        reply: pb.UpgradeSecurityProfileReply = await StationsStub(channel).UpgradeSecurityProfile(
            pb.UpgradeSecurityProfileRequest(
                station_id=station_id,
                security_profile=profile,
                csms_url=url,
                configuration_slot=slot,
            )
        )
        return reply

    reply = call("stations", address, token, var_dir, send)
    if json_output:
        print_json(as_dict(reply))
        return
    for step in reply.steps:
        out.print(step)
    out.print(
        f"profile {reply.pending_security_profile} is required once {station_id} reconnects with it"
    )
