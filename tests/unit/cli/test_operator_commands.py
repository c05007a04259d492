"""Operator commands: token resolution, CSV parsing, and errors a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.cli.main import app
from chargegrid.cli.tokens_cmd import read_csv, row

runner = CliRunner()


def test_without_a_token_the_command_says_how_to_get_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stations", "list", "--var-dir", str(tmp_path)], env={})
    assert result.exit_code == 2
    assert "admin.token" in result.output


def test_an_unreachable_service_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "admin.token").write_text("secret\n")
    result = runner.invoke(
        app,
        ["tokens", "list", "--var-dir", str(tmp_path), "--address", "127.0.0.1:1"],
    )
    assert result.exit_code == 1
    assert "authorization service is not reachable at 127.0.0.1:1" in result.output
    assert "Traceback" not in result.output


def test_bad_status_is_refused_before_any_call(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["stations", "list", "--status", "maybe", "--var-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "pending, accepted or rejected" in result.output


def test_csv_import_reads_every_column_and_round_trips() -> None:
    text = (
        "id_token,type,status,expires_at,group_id,owner_ref,allowed_site_ids,source,"
        "max_concurrent\n"
        "TAG1,ISO14443,Accepted,2030-01-01T00:00:00Z,FLEET,cust-1,S1;S2,local,3\n"
        "EMA1,emaid,blocked,,,,,ocpi:DE-ABC,\n"
    )
    tokens = read_csv(text)
    assert [t.id_token for t in tokens] == ["TAG1", "EMA1"]
    assert tokens[0].type == pb.TOKEN_TYPE_ISO14443
    assert list(tokens[0].allowed_site_ids) == ["S1", "S2"]
    assert tokens[0].expires_at.ToJsonString() == "2030-01-01T00:00:00Z"
    assert tokens[1].type == pb.TOKEN_TYPE_EMAID
    assert tokens[1].status == pb.AUTHORIZATION_STATUS_BLOCKED
    assert (tokens[0].max_concurrent_transactions, tokens[1].max_concurrent_transactions) == (3, 0)
    assert row(tokens[0]) == [
        "TAG1",
        "ISO14443",
        "Accepted",
        "2030-01-01T00:00:00Z",
        "FLEET",
        "cust-1",
        "S1;S2",
        "local",
        "3",
        "",
        "",
    ]


def test_csv_carries_the_personal_message_and_language_both_ways() -> None:
    text = (
        "id_token,type,status,expires_at,group_id,owner_ref,allowed_site_ids,source,"
        "max_concurrent,language,personal_message\n"
        'NL1,ISO14443,Accepted,,,,,local,,nl,"Welkom, Anna"\n'
    )
    (token,) = read_csv(text)
    assert (token.language, token.personal_message) == ("nl", "Welkom, Anna")
    assert row(token)[-2:] == ["nl", "Welkom, Anna"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("TAG1,Bogus,Accepted", "unknown token type"),
        ("TAG1,ISO14443,Maybe", "unknown status"),
        (",ISO14443,Accepted", "empty id_token"),
        ("T" * 37 + ",ISO14443,Accepted", "id_token is longer than 36 characters"),
        ("TAG\x01,ISO14443,Accepted", "id_token must be printable ASCII without spaces"),
        ("TAG1,ISO14443,Accepted,,,,,,-2", "max_concurrent must be a whole number"),
    ],
)
def test_a_bad_csv_line_stops_the_whole_import(line: str, message: str) -> None:
    header = "id_token,type,status,expires_at,group_id,owner_ref,allowed_site_ids,source,"
    with pytest.raises(typer.BadParameter, match=message) as info:
        read_csv(header + "max_concurrent\nGOOD,ISO14443,Accepted\n" + line + "\n")
    assert "line 3" in str(info.value)


def test_sim_fails_when_stations_cannot_get_through() -> None:
    result = runner.invoke(
        app, ["sim", "--url", "ws://127.0.0.1:1/ocpp", "--stations", "2", "--duration", "1.5"]
    )
    assert result.exit_code == 1
    assert "2 of 2 station(s) not connected and accepted" in result.output
