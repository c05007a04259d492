"""`make run` + simulated stations + `chargegrid analytics energy`: the energy the analytics
service shows for a station is what the station reported, per 15-minute window and in total.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from chargegrid.simulator import EVSpec, StationConfig, StopReason, create_station
from tests.e2e.conftest import Stack


def energy_json(stack: Stack, station_id: str, granularity: str) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    done = stack.cli(
        "analytics",
        "energy",
        "--scope",
        f"station:{station_id}",
        "--from",
        (now - timedelta(days=2)).isoformat(),
        "--until",
        (now + timedelta(days=1)).isoformat(),
        "--granularity",
        granularity,
        "--json",
    )
    found: list[dict[str, object]] = json.loads(done.stdout)
    return found


def total_wh(buckets: list[dict[str, object]]) -> float:
    return sum(float(str(b.get("energy_wh", 0))) for b in buckets)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_analytics_energy_equals_what_the_simulated_stations_reported(
    stack: Stack, version: str
) -> None:
    await asyncio.to_thread(stack.wait_for_output, "admin API token")
    stack.cli("tokens", "add", "E2EANALYTICS")
    station_id = f"E2E-AN-{version.replace('.', '')}"
    config = StationConfig(station_id=station_id, meter_interval_s=0.2, time_scale=600.0)
    station = create_station(version, config, stack.ocpp_url)
    await station.start()
    reported = 0.0
    try:
        await station.wait_registered(20)
        for _ in range(2):
            session = station.plug_in(
                1, ev=EVSpec(capacity_kwh=60, max_power_w=11_000), id_tag="E2EANALYTICS"
            )
            await asyncio.wait_for(session.transaction_started.wait(), 20)
            await asyncio.sleep(1.5)
            session.request_stop(StopReason.LOCAL)
            await asyncio.wait_for(session.finished.wait(), 20)
            reported += session.energy_wh
    finally:
        await station.stop()
    assert reported > 0
    deadline = time.monotonic() + 60
    while True:
        quarters = await asyncio.to_thread(energy_json, stack, station_id, "15m")
        if total_wh(quarters) == pytest.approx(reported, abs=1) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert total_wh(quarters) == pytest.approx(reported, abs=1)
    assert all(str(b["label"]).endswith("+00:00") for b in quarters)  # no site: UTC
    days = await asyncio.to_thread(energy_json, stack, station_id, "day")
    assert total_wh(days) == pytest.approx(reported, abs=1)
    table = stack.cli("analytics", "energy", "--scope", f"station:{station_id}").stdout
    assert "Energy" in table
