"""`chargegrid analytics sessions|users`: failed starts, time to start, token groups and
roaming vs own, as a table, CSV and JSON, from a fake Analytics service over real gRPC."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.analytics.v1 import analytics_pb2_grpc as pb_grpc
from chargegrid.cli.analytics_cmd import analytics_app
from tests.unit.cli.fake_firmware import invoke


class FakeAnalytics(pb_grpc.AnalyticsServicer):
    def __init__(self) -> None:
        self.queries: list[pb.AnalyticsQuery] = []

    def SessionStats(self, request: pb.AnalyticsQuery, context: Any) -> pb.SessionStatsReply:
        self.queries.append(request)
        bucket = pb.SessionStatsBucket(
            label="08",
            sessions=4,
            failed_starts=3,
            no_energy_flow=1,
            rejected_authorizations=2,
            energy_wh=40_000,
            average_energy_wh=10_000,
            average_duration_s=3600,
            average_time_to_start_s=90,
            average_idle_after_charging_s=1200,
            average_idle_s=1500,
        )
        return pb.SessionStatsReply(buckets=[bucket])

    def UserStats(self, request: pb.AnalyticsQuery, context: Any) -> pb.UserStatsReply:
        self.queries.append(request)
        summary = pb.UserSummary(
            tokens=2,
            returning_tokens=1,
            new_tokens=1,
            sessions=5,
            energy_wh=50_000,
            roaming_tokens=1,
            roaming_sessions=1,
            roaming_energy_wh=8_000,
            own_tokens=1,
            own_sessions=4,
            own_energy_wh=42_000,
        )
        if request.breakdown == pb.BREAKDOWN_TOKEN_GROUP:
            group = pb.UserGroupRow(
                group_id="FLEET-1", tokens=2, sessions=5, energy_wh=50_000, returning_tokens=1
            )
            group.new_tokens = 1
            return pb.UserStatsReply(groups=[group], summary=summary)
        users = [
            pb.UserStatsRow(
                id_token="OWN-1", sessions=4, energy_wh=42_000, returning=True, token_source="local"
            ),
            pb.UserStatsRow(
                id_token="PARTNER-1",
                sessions=1,
                energy_wh=8_000,
                token_source="ocpi:DE-ABC",
                roaming=True,
                group_id="FLEET-1",
            ),
        ]
        return pb.UserStatsReply(users=users, summary=summary)


@pytest.fixture
def analytics() -> Iterator[tuple[FakeAnalytics, str]]:
    fake = FakeAnalytics()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_AnalyticsServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, f"127.0.0.1:{port}"
    server.stop(0)


def test_sessions_show_failed_starts_time_to_start_and_idle_after_charging(
    analytics: tuple[FakeAnalytics, str], tmp_path: Path
) -> None:
    fake, address = analytics
    result = invoke(analytics_app, address, tmp_path, "sessions", "--by", "hour", "--csv")
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(result.output)))
    assert (row["failed starts"], row["refused"], row["no energy"]) == ("3", "2", "1")
    assert (row["to start min"], row["idle after min"]) == ("1.5", "20.0")
    assert fake.queries[0].breakdown == pb.BREAKDOWN_HOUR_OF_DAY


def test_users_tell_roaming_from_own_and_sum_them_up(
    analytics: tuple[FakeAnalytics, str], tmp_path: Path
) -> None:
    _, address = analytics
    result = invoke(analytics_app, address, tmp_path, "users")
    assert result.exit_code == 0, result.output
    assert "roaming ocpi:DE-ABC" in result.output
    assert "own local" in result.output
    assert "roaming: 1 tokens, 1 sessions, 8.000 kWh" in result.output
    as_json = json.loads(invoke(analytics_app, address, tmp_path, "users", "--json").output)
    assert [u["id_token"] for u in as_json["tokens"]] == ["OWN-1", "PARTNER-1"]
    assert as_json["summary"]["own_sessions"] == 4


def test_users_by_group_ask_for_the_group_breakdown(
    analytics: tuple[FakeAnalytics, str], tmp_path: Path
) -> None:
    fake, address = analytics
    result = invoke(analytics_app, address, tmp_path, "users", "--by", "group", "--csv")
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(result.output)))
    assert (row["token group"], row["tokens"], row["new"]) == ("FLEET-1", "2", "1")
    assert fake.queries[-1].breakdown == pb.BREAKDOWN_TOKEN_GROUP
    refused = invoke(analytics_app, address, tmp_path, "users", "--by", "tariff")
    assert refused.exit_code != 0
    assert "token or group" in refused.output
