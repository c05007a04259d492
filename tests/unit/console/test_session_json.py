"""The hand-written Session JSON is exactly what json_format writes (to_json)."""

from __future__ import annotations

from datetime import UTC, datetime

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.console.convert import to_json
from chargegrid.console.session_json import session_json, session_list_json
from tests.unit.console.test_station_json import _unset_fields


def a_full_session() -> pb.Session:
    """Every field set to a non-default value (checked below, so new fields are caught)."""
    session = pb.Session(
        id="CP1:tx1", station_id="CP1", site_id="s1", evse_id=1, connector_id=2,
        transaction_id="tx1", status=pb.SESSION_STATUS_COMPLETED, meter_start_wh=10.5,
        meter_stop_wh=7410.25, energy_wh=7399.75, peak_power_w=11000.5, charging_s=3000,
        stop_reason="EVDisconnected", power_w=7200.125, soc_percent=80.5, offline_data=True,
        missing_events=3,
    )  # fmt: skip
    session.id_token.id, session.id_token.type = "TAG1", "ISO14443"
    for name in ("started_at", "ended_at", "updated_at"):
        getattr(session, name).FromDatetime(datetime(2026, 12, 7, 12, 0, 0, 123000, tzinfo=UTC))
    return session


def test_every_field_of_the_sample_session_is_set() -> None:
    session = a_full_session()
    assert _unset_fields(session) == []
    assert _unset_fields(session.id_token) == []


def test_a_full_session_converts_like_json_format() -> None:
    session = a_full_session()
    assert session_json(session) == to_json(session)


def test_an_empty_session_converts_like_json_format() -> None:
    assert session_json(pb.Session()) == to_json(pb.Session())


def test_a_list_reply_converts_like_json_format() -> None:
    reply = pb.ListSessionsReply(
        sessions=[a_full_session(), pb.Session(id="x")], next_page_token="t", total=7
    )
    assert session_list_json(reply) == to_json(reply)
    assert session_list_json(pb.ListSessionsReply()) == to_json(pb.ListSessionsReply())
