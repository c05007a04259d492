"""`chargegrid dev` provisions what the README's commands need, and binds where it is told."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.authorization.v1 import authorization_pb2_grpc as pb_grpc
from chargegrid.cli.dev import DevOptions, DevStack, cli_hint
from chargegrid.cli.sim_tokens import ensure_simulator_tokens
from chargegrid.cli.stack import installed_services
from chargegrid.simulator import SIMULATOR_ID_TAGS, AutoSessions


class FakeAuthorization(pb_grpc.AuthorizationServicer):
    """Holds SIMTAG0001, blocked by an operator."""

    def __init__(self) -> None:
        self.tokens = {"SIMTAG0001": pb.Token(id_token="SIMTAG0001", status=2)}
        self.imported: list[list[str]] = []

    def ListTokens(self, request: Any, context: Any) -> pb.ListTokensReply:
        found = [t for i, t in sorted(self.tokens.items()) if i.startswith(request.id_prefix)]
        return pb.ListTokensReply(tokens=found)

    def ImportTokens(self, request: Any, context: Any) -> pb.ImportTokensReply:
        self.imported.append([t.id_token for t in request.tokens])
        for token in request.tokens:
            self.tokens[token.id_token] = token
        return pb.ImportTokensReply(created=len(request.tokens))


@pytest.fixture
def authorization() -> Iterator[tuple[FakeAuthorization, str]]:
    fake = FakeAuthorization()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_AuthorizationServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, f"127.0.0.1:{port}"
    server.stop(0)


def test_the_simulators_drivers_draw_from_a_hundred_tokens() -> None:
    assert AutoSessions().id_tags == SIMULATOR_ID_TAGS
    assert SIMULATOR_ID_TAGS[0] == "SIMTAG0001"
    assert SIMULATOR_ID_TAGS[-1] == "SIMTAG0100"
    assert len(set(SIMULATOR_ID_TAGS)) == 100


def test_only_missing_simulator_tokens_are_created_and_a_blocked_one_stays_blocked(
    authorization: tuple[FakeAuthorization, str],
) -> None:
    fake, address = authorization
    wanted = ("SIMTAG0001", "SIMTAG0002", "SIMTAG0003")
    created = asyncio.run(ensure_simulator_tokens(address, "t", wanted))
    assert created == ["SIMTAG0002", "SIMTAG0003"]
    assert fake.tokens["SIMTAG0001"].status == pb.AUTHORIZATION_STATUS_BLOCKED
    assert fake.tokens["SIMTAG0002"].status == pb.AUTHORIZATION_STATUS_ACCEPTED
    assert fake.tokens["SIMTAG0002"].type == pb.TOKEN_TYPE_ISO14443
    assert asyncio.run(ensure_simulator_tokens(address, "t", wanted)) == []
    assert fake.imported == [["SIMTAG0002", "SIMTAG0003"]]


def test_metrics_bind_to_the_host_every_other_endpoint_binds_to(tmp_path: Path) -> None:
    options = DevOptions(
        var_dir=tmp_path, kafka="k:9092", services=installed_services(), host="127.0.0.2"
    )
    env = DevStack(options, console=None).service_env("service-token")  # type: ignore[arg-type]
    assert env["CHARGEGRID_METRICS_HOST"] == "127.0.0.2"
    assert env["CHARGEGRID_GRPC_HOST"] == "127.0.0.2"


def test_the_stack_says_how_to_type_chargegrid(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    hint = cli_hint(tmp_path / ".venv" / "bin")
    assert hint.startswith("operator commands: .venv/bin/chargegrid --help")
    assert "source .venv/bin/activate" in hint
