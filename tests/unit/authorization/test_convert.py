"""Bad input is refused at the edge with a message naming the field."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.authorization import convert
from chargegrid.authorization.domain import Decision
from chargegrid.platform.grpc import InvalidArgument
from chargegrid.platform.identifiers import InvalidValue


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (pb.Token(), "token.id_token is required"),
        (pb.Token(id_token="A", type=99), "unknown token type 99"),  # type: ignore[arg-type]
        (pb.Token(id_token="A", status=pb.AUTHORIZATION_STATUS_CONCURRENT_TX), "cannot be stored"),
        (pb.Token(id_token="A", status=pb.AUTHORIZATION_STATUS_UNKNOWN), "cannot be stored"),
        (pb.Token(id_token="A", status=42), "cannot be stored"),  # type: ignore[arg-type]
        (pb.Token(id_token="A", group_id="A"), "its own group"),
        (pb.Token(id_token="A", source="roaming"), "token.source"),
        (pb.Token(id_token="X" * 37), "longer than 36"),
        (pb.Token(id_token="A\x00B"), "printable ASCII"),
        (pb.Token(id_token="A", group_id="G" * 37), "token.group_id is longer than 36"),
        (pb.Token(id_token="A", owner_ref="o" * 256), "token.owner_ref is longer than 255"),
        (pb.Token(id_token="A", allowed_site_ids=["a/b"]), r"allowed_site_ids\[0\]"),
    ],
)
def test_a_bad_token_is_refused(token: pb.Token, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        convert.token_from_proto(token)


def test_a_token_defaults_to_iso14443_and_local_and_round_trips() -> None:
    token = convert.token_from_proto(
        pb.Token(id_token="A", source="ocpi:NL-TNM", allowed_site_ids=["S1", "S1"])
    )
    assert (token.type, token.source, token.allowed_site_ids) == (
        "ISO14443",
        "ocpi:NL-TNM",
        ("S1",),
    )
    assert token.status == ""  # unspecified: create defaults it, update keeps the stored one
    back = convert.token_to_proto(replace(token, status="Blocked"))
    assert (back.type, back.status) == (pb.TOKEN_TYPE_ISO14443, pb.AUTHORIZATION_STATUS_BLOCKED)


@pytest.mark.parametrize("size", [-1, 1001])
def test_page_sizes_out_of_range_are_refused(size: int) -> None:
    with pytest.raises(InvalidArgument, match="page_size"):
        convert.page_size(PageRequest(page_size=size))


def test_page_size_zero_means_the_default() -> None:
    assert convert.page_size(PageRequest()) == 100
    assert convert.page_size(PageRequest(page_size=1000)) == 1000


def test_a_scope_needs_a_non_empty_target() -> None:
    with pytest.raises(InvalidArgument, match="station_id or a site_id"):
        convert.scope_from_proto(pb.LocalListScope())
    with pytest.raises(InvalidArgument, match=r"scope\.site_id is empty"):
        convert.scope_from_proto(pb.LocalListScope(site_id=""))


def test_an_authorize_request_needs_a_station_a_token_and_a_known_purpose() -> None:
    with pytest.raises(InvalidValue, match="station_id"):
        convert.query_from_proto(pb.AuthorizeRequest(id_token="A"))
    with pytest.raises(InvalidValue, match="station_id must be"):
        convert.query_from_proto(pb.AuthorizeRequest(station_id="a/b", id_token="A"))
    with pytest.raises(InvalidArgument, match="id_token"):
        convert.query_from_proto(pb.AuthorizeRequest(station_id="CP"))
    with pytest.raises(InvalidArgument, match="purpose"):
        convert.query_from_proto(pb.AuthorizeRequest(station_id="CP", id_token="A", purpose="x"))
    query = convert.query_from_proto(pb.AuthorizeRequest(station_id="CP", id_token="A"))
    assert query.purpose == "authorize"


def test_an_authorize_reply_names_the_tokens_group_and_source() -> None:
    reply = convert.decision_to_proto(
        Decision("Accepted", "accepted", None, "FLEET", "ocpi:DE-ABC")
    )
    assert (reply.group_id, reply.source) == ("FLEET", "ocpi:DE-ABC")
