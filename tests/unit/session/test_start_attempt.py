"""What the session service takes from an AllocateTransactionId request as the start it is for."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.session.api.validation import start_attempt
from chargegrid.session.start_ids import StartAttempt

T0 = datetime(2026, 12, 7, 10, tzinfo=UTC)


def a_request(**fields: object) -> pb.AllocateTransactionIdRequest:
    request = pb.AllocateTransactionIdRequest(station_id="CP1", connector_id=2, **fields)  # type: ignore[arg-type]
    return request


def test_a_request_naming_its_start_gives_the_attempt() -> None:
    request = a_request(id_tag="TAG1", meter_start_wh=12.5)
    request.started_at.FromDatetime(T0)
    assert start_attempt(request) == StartAttempt("CP1", 2, "TAG1", T0, 12.5)


def test_a_request_without_its_start_or_with_half_of_it_gives_none() -> None:
    assert start_attempt(a_request()) is None
    assert start_attempt(a_request(id_tag="TAG1")) is None
    timed = a_request()
    timed.started_at.FromDatetime(T0)
    assert start_attempt(timed) is None


def test_a_meter_start_that_is_not_a_number_is_not_matched() -> None:
    request = a_request(id_tag="TAG1", meter_start_wh=math.nan)
    request.started_at.FromDatetime(T0)
    assert start_attempt(request) is None
