"""Timestamps outside what google.protobuf.Timestamp allows are found wherever they sit."""

from chargegrid.api.session.v1 import session_pb2
from chargegrid.api.stations.v1 import stations_pb2
from chargegrid.platform.grpc.timestamps import MAX_SECONDS, MIN_SECONDS, invalid_timestamp


def test_the_extremes_of_the_type_are_valid() -> None:
    request = session_pb2.ListSessionsRequest()
    request.since.seconds, request.until.seconds = MIN_SECONDS, MAX_SECONDS
    request.until.nanos = 999_999_999

    assert invalid_timestamp(request) is None


def test_a_second_beyond_year_9999_is_named() -> None:
    request = session_pb2.ListSessionsRequest()
    request.until.seconds = MAX_SECONDS + 1

    assert invalid_timestamp(request) == "until"


def test_negative_nanos_are_named() -> None:
    request = session_pb2.ListSessionsRequest()
    request.since.nanos = -1

    assert invalid_timestamp(request) == "since"


def test_a_timestamp_inside_a_repeated_message_is_named() -> None:
    reply = session_pb2.ListSessionsReply()
    reply.sessions.add().started_at.seconds = -(2**63)

    assert invalid_timestamp(reply) == "sessions.started_at"


def test_a_message_without_timestamps_is_valid() -> None:
    assert invalid_timestamp(stations_pb2.GetStationRequest(station_id="CP-1")) is None
