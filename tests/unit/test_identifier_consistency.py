"""One id, one answer: the gateway's handshake, every service's API validation and the CLI
accept or refuse the same station ids and id tokens."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import typer

from chargegrid.api.authorization.v1 import authorization_pb2
from chargegrid.api.session.v1 import session_pb2
from chargegrid.authorization import convert as authorization
from chargegrid.billing import validation as billing
from chargegrid.cli.tokens_cmd import read_csv
from chargegrid.firmware import validation as firmware
from chargegrid.gateway.server import station_id_from_path
from chargegrid.platform.identifiers import STATION_ID, InvalidValue
from chargegrid.session.api import validation as session
from chargegrid.stations.api import validation as stations

STATION_IDS = [
    "CP1",
    "Az09*-_=:+|@.",
    "S" * 48,
    "S" * 49,
    "a/b",
    "CPé",
    "CP 1",
    "CP\x00",
    "CP\t1",
    "",
]
ID_TOKENS = ["TAG-1", "!~#", "T" * 36, "T" * 37, "TAG 1", "TAG\x00", "TAGé", "TA\nG"]


def accepted(check: object, value: str) -> bool:
    try:
        check(value)  # type: ignore[operator]
    except InvalidValue:
        return False
    return True


def gateway_accepts(station_id: str) -> bool:
    decoded = station_id_from_path("/ocpp/" + quote(station_id, safe=""), "/ocpp")
    return decoded is not None and STATION_ID.problem(decoded) is None


@pytest.mark.parametrize("station_id", STATION_IDS)
def test_every_entry_gives_a_station_id_the_same_answer(station_id: str) -> None:
    answers = {
        "gateway handshake": gateway_accepts(station_id),
        "stations": accepted(lambda v: stations.station_id(v, "station_id"), station_id),
        "authorization": accepted(authorization.station_id, station_id),
        "session": accepted(
            lambda v: session.allocation(session_pb2.AllocateTransactionIdRequest(station_id=v)),
            station_id,
        ),
        "billing": accepted(lambda v: billing.session_of(v, "1"), station_id),
        "firmware": accepted(firmware.station_id, station_id),
    }
    assert len(set(answers.values())) == 1, answers


def cli_accepts(id_token: str) -> bool:
    escaped = id_token.replace('"', '""')
    try:
        read_csv(f'id_token\n"{escaped}"\n')
    except typer.BadParameter:
        return False
    return True


@pytest.mark.parametrize("id_token", ID_TOKENS)
def test_the_cli_and_the_service_give_an_id_token_the_same_answer(id_token: str) -> None:
    service = accepted(
        lambda v: authorization.token_from_proto(authorization_pb2.Token(id_token=v)), id_token
    )
    assert cli_accepts(id_token) == service
