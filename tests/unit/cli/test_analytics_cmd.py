"""`chargegrid analytics`: scopes and granularities read as an operator types them."""

from __future__ import annotations

import pytest
import typer

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.cli.analytics_cmd import bar, build_query, parse_scope


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("network", pb.Scope(kind=pb.SCOPE_KIND_NETWORK)),
        ("site:depot-nord", pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id="depot-nord")),
        ("station:CP:1", pb.Scope(kind=pb.SCOPE_KIND_STATION, station_id="CP:1")),
        ("evse:CP/7/2", pb.Scope(kind=pb.SCOPE_KIND_EVSE, station_id="CP/7", evse_id=2)),
    ],
)
def test_every_scope_kind_is_read_with_its_ids(text: str, expected: pb.Scope) -> None:
    assert parse_scope(text) == expected


@pytest.mark.parametrize("text", ["planet:mars", "site:", "evse:CP", "evse:CP/x", "network:1"])
def test_an_unknown_or_incomplete_scope_is_a_usage_error(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="unknown scope"):
        parse_scope(text)


def test_a_granularity_outside_the_four_is_a_usage_error() -> None:
    with pytest.raises(typer.BadParameter, match="15m, hour, day or month"):
        build_query("network", None, None, "week")


def test_a_date_without_a_zone_is_utc_and_bars_scale_to_the_largest() -> None:
    query = build_query("network", "2026-03-01", "2026-04-01T00:00+02:00", "day")
    assert query.start.ToJsonString() == "2026-03-01T00:00:00Z"
    assert query.end.ToJsonString() == "2026-03-31T22:00:00Z"
    assert bar(10, 10) == "█" * 40
    assert bar(5, 10) == "█" * 20
    assert bar(0, 10) == ""
