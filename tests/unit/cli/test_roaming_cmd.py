"""`chargegrid roaming`: partners add/list/show/remove, register, rotate, status, resync,
tokens pull, --json,
against a fake RoamingAdmin over real gRPC; refusals are one line and exit code 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner

from chargegrid.api.roaming.v1 import roaming_pb2 as pb
from chargegrid.api.roaming.v1 import roaming_pb2_grpc as pb_grpc
from chargegrid.cli.roaming_cmd import roaming_app

runner = CliRunner()


class FakeRoaming(pb_grpc.RoamingAdminServicer):
    def __init__(self) -> None:
        self.partners: dict[str, pb.Partner] = {}

    def AddPartner(self, request: pb.AddPartnerRequest, context: Any) -> pb.AddPartnerReply:
        if request.partner_id in self.partners:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"partner {request.partner_id!r} exists")
        partner = pb.Partner(
            id=request.partner_id,
            name=request.name,
            status="PENDING",
            allowed_modules=list(request.allowed_modules) or ["credentials", "locations"],
        )
        self.partners[partner.id] = partner
        return pb.AddPartnerReply(
            partner=partner, token_a="TOKEN-A", versions_url="http://cpo/ocpi/versions"
        )

    def ListPartners(self, request: Any, context: Any) -> pb.ListPartnersReply:
        return pb.ListPartnersReply(partners=list(self.partners.values()))

    def GetPartner(self, request: pb.GetPartnerRequest, context: Any) -> pb.Partner:
        if request.partner_id not in self.partners:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no partner {request.partner_id!r}")
        return self.partners[request.partner_id]

    def RemovePartner(self, request: pb.RemovePartnerRequest, context: Any) -> Any:
        if self.partners.pop(request.partner_id, None) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no partner {request.partner_id!r}")
        return pb.RemovePartnerReply()

    def Register(self, request: pb.RegisterRequest, context: Any) -> pb.Partner:
        if request.token_a != "THEIR-A":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "registration refused: HTTP 401")
        partner = pb.Partner(
            id=request.partner_id, status="REGISTERED", country_code="NL", party_id="EMS"
        )
        self.partners[partner.id] = partner
        return partner

    def GetStatus(self, request: Any, context: Any) -> pb.GetStatusReply:
        return pb.GetStatusReply(
            partners=[
                pb.PartnerStatus(partner_id=p.id, status=p.status, backlog=3, last_error="down")
                for p in self.partners.values()
            ]
        )

    def Resync(self, request: Any, context: Any) -> pb.ResyncReply:
        return pb.ResyncReply(pushes=7)

    def RotateCredentials(self, request: pb.RotateCredentialsRequest, context: Any) -> pb.Partner:
        partner = self.partners.get(request.partner_id, pb.Partner())
        if partner.status != "REGISTERED":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "rotation refused: not registered")
        return partner

    def PullTokens(self, request: pb.PullTokensRequest, context: Any) -> pb.PullTokensReply:
        return pb.PullTokensReply(
            partners=[
                pb.TokensPulled(partner_id="p1", tokens=12),
                pb.TokensPulled(partner_id="p2", error="HTTP 503"),
            ]
        )


@pytest.fixture
def roaming() -> Iterator[tuple[FakeRoaming, list[str]]]:
    fake = FakeRoaming()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_RoamingAdminServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, ["--address", f"127.0.0.1:{port}", "--token", "t"]
    server.stop(0)


def test_partners_are_added_listed_shown_and_removed(
    roaming: tuple[FakeRoaming, list[str]],
) -> None:
    _, opts = roaming
    added = runner.invoke(roaming_app, ["partners", "add", "emsp1", "--name", "E", *opts])
    assert added.exit_code == 0, added.output
    assert "TOKEN-A" in added.output
    assert "http://cpo/ocpi/versions" in added.output
    listed = runner.invoke(roaming_app, ["partners", "list", "--json", *opts])
    assert [p["id"] for p in json.loads(listed.output)] == ["emsp1"]
    shown = runner.invoke(roaming_app, ["partners", "show", "emsp1", *opts])
    assert "PENDING" in shown.output
    gone = runner.invoke(roaming_app, ["partners", "remove", "emsp1", "--json", *opts])
    assert json.loads(gone.output) == {"removed": "emsp1"}


def test_register_status_and_resync(roaming: tuple[FakeRoaming, list[str]]) -> None:
    _, opts = roaming
    url = "http://emsp/ocpi/versions"
    done = runner.invoke(
        roaming_app,
        ["register", url, "--token-a", "THEIR-A", "--partner", "p1", "--json", *opts],
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"] == "REGISTERED"
    status = runner.invoke(roaming_app, ["status", "--json", *opts])
    assert json.loads(status.output)[0]["backlog"] == 3
    table = runner.invoke(roaming_app, ["status", *opts])
    assert "p1" in table.output
    assert "down" in table.output
    resync = runner.invoke(roaming_app, ["resync", "--json", *opts])
    assert json.loads(resync.output) == {"pushes": 7}


def test_refusals_are_one_line_and_exit_1(roaming: tuple[FakeRoaming, list[str]]) -> None:
    _, opts = roaming
    refused = runner.invoke(
        roaming_app, ["register", "http://x", "--token-a", "bad", "--partner", "p", *opts]
    )
    assert refused.exit_code == 1
    assert "FAILED_PRECONDITION: registration refused" in refused.output
    unknown = runner.invoke(roaming_app, ["partners", "show", "ghost", *opts])
    assert unknown.exit_code == 1
    assert "NOT_FOUND" in unknown.output


def test_rotate_and_tokens_pull(roaming: tuple[FakeRoaming, list[str]]) -> None:
    fake, opts = roaming
    fake.partners["p1"] = pb.Partner(id="p1", status="REGISTERED")
    rotated = runner.invoke(roaming_app, ["rotate", "--partner", "p1", *opts])
    assert (rotated.exit_code, rotated.output.strip()) == (0, "credentials with p1 rotated")
    refused = runner.invoke(roaming_app, ["rotate", "--partner", "ghost", *opts])
    assert refused.exit_code == 1
    assert "FAILED_PRECONDITION: rotation refused" in refused.output
    pulled = runner.invoke(roaming_app, ["tokens", "pull", "--json", *opts])
    assert [(p["partner_id"], p.get("tokens", 0)) for p in json.loads(pulled.output)] == [
        ("p1", 12), ("p2", 0),
    ]  # fmt: skip
    shown = runner.invoke(roaming_app, ["tokens", "pull", *opts])
    assert "HTTP 503" in shown.output
