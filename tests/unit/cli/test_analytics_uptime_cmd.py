"""`chargegrid analytics utilization|uptime|status|exclusions`: what reaches the service and
what is printed for people and scripts."""

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
from google.protobuf.timestamp_pb2 import Timestamp
from typer.testing import CliRunner

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.analytics.v1 import analytics_pb2_grpc as pb_grpc
from chargegrid.cli.analytics_cmd import analytics_app

runner = CliRunner()
EXCLUSION = pb.Exclusion(
    id="x-1",
    scope=pb.Scope(kind=pb.SCOPE_KIND_EVSE, station_id="CP-1", evse_id=2),
    start=Timestamp(seconds=1_772_323_200),
    end=Timestamp(seconds=1_772_326_800),
    reason="grid_outage",
    note="feeder down",
)


class FakeAnalytics(pb_grpc.AnalyticsServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def Utilization(self, request: Any, context: Any) -> pb.UtilizationReply:
        self.requests.append(request)
        bucket = pb.UtilizationBucket(
            label="2026-03-01", charging_share=0.25, available_share=0.5, offline_share=0.25
        )
        return pb.UtilizationReply(buckets=[bucket])

    def Uptime(self, request: Any, context: Any) -> pb.UptimeReply:
        self.requests.append(request)
        if not request.page.page_token:
            return pb.UptimeReply(
                uptime_percent=99.5,
                ports=[
                    pb.PortUptime(
                        station_id="CP-1", evse_id=1, month="2026-03", uptime_percent=99.5
                    )
                ],
                outages=[pb.Outage(station_id="CP-1", evse_id=1, cause="offline")],
                next_page_token="next",
            )
        return pb.UptimeReply(
            outages=[pb.Outage(station_id="CP-1", evse_id=2, cause="Faulted", excluded=True)]
        )

    def Status(self, request: Any, context: Any) -> pb.StatusReply:
        self.requests.append(request)
        evse = pb.EvseStatus(
            station_id="CP-1", evse_id=1, status="Charging", availability="OCCUPIED"
        )
        return pb.StatusReply(evses=[evse])

    def AddExclusion(self, request: Any, context: Any) -> pb.Exclusion:
        self.requests.append(request)
        return EXCLUSION

    def ListExclusions(self, request: Any, context: Any) -> pb.ListExclusionsReply:
        self.requests.append(request)
        return pb.ListExclusionsReply(exclusions=[EXCLUSION])

    def RemoveExclusion(self, request: Any, context: Any) -> pb.RemoveExclusionReply:
        self.requests.append(request)
        if request.id != "x-1":
            context.abort(grpc.StatusCode.NOT_FOUND, f"no exclusion {request.id}")
        return pb.RemoveExclusionReply(removed=True)


@pytest.fixture
def service() -> Iterator[tuple[FakeAnalytics, str]]:
    fake = FakeAnalytics()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_AnalyticsServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, f"127.0.0.1:{port}"
    server.stop(0)


def invoke(address: str, tmp_path: Path, *args: str) -> Any:
    return runner.invoke(
        analytics_app, [*args, "--address", address, "--token", "t", "--var-dir", str(tmp_path)]
    )


def test_utilization_sends_the_query_and_prints_shares(
    service: tuple[FakeAnalytics, str], tmp_path: Path
) -> None:
    fake, address = service
    result = invoke(address, tmp_path, "utilization", "--scope", "site:S1", "-g", "hour", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["charging_share"] == 0.25
    request = fake.requests[0]
    assert (request.scope.site_id, request.granularity) == ("S1", pb.GRANULARITY_HOUR)
    rows = list(csv.reader(io.StringIO(invoke(address, tmp_path, "utilization", "--csv").output)))
    assert rows[0][:3] == ["bucket", "charging", "occupied"]
    assert rows[1] == ["2026-03-01", "25.0", "0.0", "50.0", "0.0", "0.0", "25.0"]


def test_uptime_is_monthly_and_outages_are_read_over_every_page(
    service: tuple[FakeAnalytics, str], tmp_path: Path
) -> None:
    fake, address = service
    result = invoke(address, tmp_path, "uptime", "--scope", "evse:CP-1/1")
    assert result.exit_code == 0, result.output
    assert "99.500" in result.output
    assert fake.requests[0].granularity == pb.GRANULARITY_MONTH
    listed = invoke(address, tmp_path, "uptime", "--outages", "--csv")
    rows = list(csv.reader(io.StringIO(listed.output)))
    assert [(r[0], r[1], r[4], r[5]) for r in rows[1:]] == [
        ("CP-1", "1", "offline", ""),
        ("CP-1", "2", "Faulted", "yes"),
    ]


def test_status_lists_each_evse(service: tuple[FakeAnalytics, str], tmp_path: Path) -> None:
    _, address = service
    result = invoke(address, tmp_path, "status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["availability"] == "OCCUPIED"


def test_exclusions_are_added_listed_and_removed(
    service: tuple[FakeAnalytics, str], tmp_path: Path
) -> None:
    fake, address = service
    added = invoke(
        address,
        tmp_path,
        "exclusions",
        "add",
        "--scope",
        "evse:CP-1/2",
        "--from",
        "2026-03-01T00:00",
        "--until",
        "2026-03-01T01:00",
        "--reason",
        "grid_outage",
        "--note",
        "feeder down",
    )
    assert added.exit_code == 0, added.output
    request = fake.requests[0]
    assert (request.scope.evse_id, request.reason) == (2, "grid_outage")
    assert request.start.ToJsonString() == "2026-03-01T00:00:00Z"
    listed = invoke(address, tmp_path, "exclusions", "list", "--scope", "station:CP-1", "--csv")
    assert "evse:CP-1/2" in listed.output
    assert invoke(address, tmp_path, "exclusions", "remove", "x-1").exit_code == 0
    missing = invoke(address, tmp_path, "exclusions", "remove", "x-2")
    assert missing.exit_code != 0
    assert "no exclusion x-2" in missing.output


def test_an_unknown_reason_is_refused_before_any_call(tmp_path: Path) -> None:
    result = invoke(
        "127.0.0.1:1",
        tmp_path,
        "exclusions",
        "add",
        "--scope",
        "site:S1",
        "--from",
        "2026-03-01",
        "--until",
        "2026-03-02",
        "--reason",
        "holiday",
    )
    assert result.exit_code == 2
    assert "planned_maintenance or grid_outage" in result.output
