"""`chargegrid roaming ...`: OCPI partners from the terminal.

`partners add` prints the token A a partner registers with (once: it is stored hashed);
`register` registers us with a partner given its versions URL and token A; `rotate` renews
the tokens of a registered partner (our PUT on its credentials); `status` shows per partner
what is waiting to be pushed, the last push and the last error; `resync` pushes every
location and tariff again; `tokens pull` fetches partners' token lists now. Every refusal
of the roaming service is one line on stderr and exit code 1; nothing changed.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import grpc
import typer
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.roaming.v1 import roaming_pb2 as pb
from chargegrid.api.roaming.v1.roaming_pb2_grpc import RoamingAdminStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call
from chargegrid.cli.output import as_dict, fields, out, print_json, table

if TYPE_CHECKING:
    from chargegrid.api.roaming.v1.roaming_pb2_grpc import RoamingAdminAsyncStub

roaming_app = typer.Typer(help="Roaming (OCPI 2.2.1): partners, registration, push status, resync.")
partners_app = typer.Typer(help="OCPI partners (eMSPs, hubs).")
roaming_app.add_typer(partners_app, name="partners")
tokens_app = typer.Typer(help="Partners' tokens (we are the OCPI tokens receiver).")
roaming_app.add_typer(tokens_app, name="tokens")

ModulesOption = Annotated[
    list[str] | None,
    typer.Option("--module", help="A module the partner may use (repeat; default: all)."),
]


def _stub(channel: grpc.aio.Channel) -> RoamingAdminAsyncStub:
    return RoamingAdminStub(channel)


def when(stamp: Timestamp, present: bool) -> str:
    if not present:
        return "-"
    return stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S")


def print_partner(p: pb.Partner) -> None:
    fields(
        f"partner {p.id}",
        [
            ("name", p.name),
            ("status", p.status),
            ("party", f"{p.country_code}/{p.party_id}" if p.party_id else "-"),
            ("roles", ", ".join(p.roles) or "-"),
            ("modules", ", ".join(p.allowed_modules)),
            ("versions url", p.versions_url or "-"),
            ("version", p.version or "-"),
            ("endpoints", ", ".join(f"{e.identifier} ({e.role})" for e in p.endpoints) or "-"),
            ("updated", when(p.updated_at, p.HasField("updated_at"))),
        ],
    )


@partners_app.command("add")
def add(
    partner_id: Annotated[str, typer.Argument(help="Our id for the partner.")],
    name: Annotated[str, typer.Option(help="A name people recognise.")] = "",
    country_code: Annotated[str, typer.Option("--country-code", help="ISO 3166 alpha-2.")] = "",
    party_id: Annotated[str, typer.Option("--party-id", help="3-character party id.")] = "",
    modules: ModulesOption = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Add a partner; prints the token A and the versions URL it registers with."""
    request = pb.AddPartnerRequest(
        partner_id=partner_id,
        name=name,
        country_code=country_code,
        party_id=party_id,
        allowed_modules=modules or [],
    )

    async def work(channel: grpc.aio.Channel) -> pb.AddPartnerReply:
        return await _stub(channel).AddPartner(request)

    reply = call("roaming", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(reply))
        return
    out.print(f"partner {reply.partner.id} added ({reply.partner.status})")
    out.print(f"versions URL: {reply.versions_url}")
    out.print(f"token A (shown once): {reply.token_a}")


@partners_app.command("list")
def list_partners(
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Every partner with its status, party and modules."""

    async def work(channel: grpc.aio.Channel) -> pb.ListPartnersReply:
        return await _stub(channel).ListPartners(pb.ListPartnersRequest())

    reply = call("roaming", address, token, var_dir, work)
    if json_output:
        print_json([as_dict(p) for p in reply.partners])
        return
    table(
        "partners",
        ["id", "name", "status", "party", "roles", "modules"],
        (
            [
                p.id,
                p.name,
                p.status,
                f"{p.country_code}/{p.party_id}" if p.party_id else "-",
                ",".join(p.roles),
                ",".join(p.allowed_modules),
            ]
            for p in reply.partners
        ),
    )


@partners_app.command("show")
def show(
    partner_id: Annotated[str, typer.Argument(help="Partner id.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """One partner: status, party, roles, modules, its endpoints."""

    async def work(channel: grpc.aio.Channel) -> pb.Partner:
        return await _stub(channel).GetPartner(pb.GetPartnerRequest(partner_id=partner_id))

    partner = call("roaming", address, token, var_dir, work)
    print_json(as_dict(partner)) if json_output else print_partner(partner)


@partners_app.command("remove")
def remove(
    partner_id: Annotated[str, typer.Argument(help="Partner id.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Forget a partner, its tokens and the pushes still waiting for it."""

    async def work(channel: grpc.aio.Channel) -> pb.RemovePartnerReply:
        return await _stub(channel).RemovePartner(pb.RemovePartnerRequest(partner_id=partner_id))

    call("roaming", address, token, var_dir, work)
    if json_output:
        print_json({"removed": partner_id})
    else:
        out.print(f"partner {partner_id} removed")


@roaming_app.command("register")
def register(
    url: Annotated[str, typer.Argument(help="The partner's OCPI versions URL.")],
    token_a: Annotated[str, typer.Option("--token-a", help="The token A the partner gave us.")],
    partner_id: Annotated[str, typer.Option("--partner", help="Our id for the partner.")],
    name: Annotated[str, typer.Option(help="A name people recognise.")] = "",
    modules: ModulesOption = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Register with a partner: fetch its versions, post our credentials, keep its token."""
    request = pb.RegisterRequest(
        url=url, token_a=token_a, partner_id=partner_id, name=name, allowed_modules=modules or []
    )

    async def work(channel: grpc.aio.Channel) -> pb.Partner:
        return await _stub(channel).Register(request)

    partner = call("roaming", address, token, var_dir, work)
    print_json(as_dict(partner)) if json_output else print_partner(partner)


@roaming_app.command("status")
def status(
    partner_id: Annotated[str, typer.Option("--partner", help="Only this partner.")] = "",
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Per partner: status, pushes waiting (and failing), last push, last error."""

    async def work(channel: grpc.aio.Channel) -> pb.GetStatusReply:
        return await _stub(channel).GetStatus(pb.GetStatusRequest(partner_id=partner_id))

    reply = call("roaming", address, token, var_dir, work)
    if json_output:
        print_json([as_dict(p) for p in reply.partners])
        return
    table(
        "roaming push status",
        ["partner", "status", "backlog", "failing", "oldest pending", "last push", "last error"],
        (
            [
                p.partner_id,
                p.status,
                p.backlog,
                p.failing,
                when(p.oldest_pending_at, p.HasField("oldest_pending_at")),
                when(p.last_push_at, p.HasField("last_push_at")),
                (p.last_error[:80] + f" ({when(p.last_error_at, True)})") if p.last_error else "-",
            ]
            for p in reply.partners
        ),
    )


@roaming_app.command("resync")
def resync(
    partner_id: Annotated[str, typer.Option("--partner", help="Only this partner.")] = "",
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Rebuild locations and tariffs now and push all of them again."""

    async def work(channel: grpc.aio.Channel) -> pb.ResyncReply:
        return await _stub(channel).Resync(pb.ResyncRequest(partner_id=partner_id))

    reply = call("roaming", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(reply))
    else:
        out.print(f"{reply.pushes} pushes queued")


@roaming_app.command("rotate")
def rotate(
    partner_id: Annotated[str, typer.Option("--partner", help="The registered partner.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Rotate credentials with a partner: a new token for it, sent with our credentials
    (PUT); its new token is kept. When it refuses, both old tokens stay valid."""

    async def work(channel: grpc.aio.Channel) -> pb.Partner:
        request = pb.RotateCredentialsRequest(partner_id=partner_id)
        return await _stub(channel).RotateCredentials(request)

    partner = call("roaming", address, token, var_dir, work)
    if json_output:
        print_json(as_dict(partner))
    else:
        out.print(f"credentials with {partner.id} rotated")


@tokens_app.command("pull")
def pull(
    partner_id: Annotated[str, typer.Option("--partner", help="Only this partner.")] = "",
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Fetch partners' token lists now (GET, page by page); how many were stored."""

    async def work(channel: grpc.aio.Channel) -> pb.PullTokensReply:
        return await _stub(channel).PullTokens(pb.PullTokensRequest(partner_id=partner_id))

    reply = call("roaming", address, token, var_dir, work)
    if json_output:
        print_json([as_dict(p) for p in reply.partners])
        return
    table(
        "tokens pulled",
        ["partner", "tokens", "error"],
        ([p.partner_id, p.tokens, p.error or "-"] for p in reply.partners),
    )
