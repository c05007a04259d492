"""What a query must say: a known scope with its ids, a sane range, a known granularity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargegrid.analytics.query import Grain, Kind, next_token, query_of
from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.platform.grpc.errors import InvalidArgument


def a_query(**overrides: object) -> pb.AnalyticsQuery:
    query = pb.AnalyticsQuery(
        scope=pb.Scope(kind=pb.SCOPE_KIND_EVSE, station_id="CP-1", evse_id=2),
        granularity=pb.GRANULARITY_HOUR,
        page=PageRequest(page_size=10),
    )
    query.start.FromDatetime(datetime(2026, 3, 1, tzinfo=UTC))
    query.end.FromDatetime(datetime(2026, 4, 1, tzinfo=UTC))
    for name, value in overrides.items():
        if isinstance(value, pb.Scope | PageRequest):
            getattr(query, name).CopyFrom(value)
        else:
            setattr(query, name, value)
    return query


def test_a_sound_query_is_taken_as_it_is() -> None:
    query = query_of(a_query(), 370)
    assert (query.scope.kind, query.scope.evse_id, query.grain) == (Kind.EVSE, 2, Grain.HOUR)
    assert (query.offset, query.size) == (0, 10)


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        (pb.Scope(kind=7), "unknown scope kind 7"),  # type: ignore[arg-type]
        (pb.Scope(), "unknown scope kind 0"),
        (pb.Scope(kind=pb.SCOPE_KIND_SITE), "needs site_id"),
        (pb.Scope(kind=pb.SCOPE_KIND_STATION), "needs station_id"),
        (pb.Scope(kind=pb.SCOPE_KIND_EVSE, station_id="CP-1"), "evse_id > 0"),
    ],
)
def test_an_unknown_or_incomplete_scope_is_refused(scope: pb.Scope, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        query_of(a_query(scope=scope), 370)


def test_a_range_ending_before_it_starts_is_refused() -> None:
    query = a_query()
    query.end.FromDatetime(datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(InvalidArgument, match="before it starts"):
        query_of(query, 370)


def test_an_absurd_range_or_granularity_is_refused() -> None:
    query = a_query()
    query.start.FromDatetime(datetime(1990, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidArgument, match="between 2000 and 2200"):
        query_of(query, 100_000)
    with pytest.raises(InvalidArgument, match="more than 30 days"):
        query_of(a_query(), 30)
    with pytest.raises(InvalidArgument, match="unknown granularity 0"):
        query_of(a_query(granularity=0), 370)


def test_a_page_token_resumes_where_the_full_page_ended_and_a_forged_one_is_refused() -> None:
    first = query_of(a_query(), 370)
    token = next_token(first, 10)
    assert next_token(first, 9) == ""
    second = query_of(a_query(page=PageRequest(page_size=10, page_token=token)), 370)
    assert second.offset == 10
    with pytest.raises(InvalidArgument, match="page_token"):
        query_of(a_query(page=PageRequest(page_token="garbage")), 370)
