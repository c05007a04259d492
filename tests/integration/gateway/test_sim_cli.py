"""`chargegrid sim` drives stations of either version against a running gateway."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.integration.gateway.conftest import RunningGateway

CHARGEGRID = Path(sys.executable).with_name("chargegrid")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_sim_command_boots_its_stations_and_charges(
    gateway: RunningGateway, version: str
) -> None:
    prefix = f"CLI{version.replace('.', '')}-"
    process = await asyncio.create_subprocess_exec(
        str(CHARGEGRID),
        "sim",
        "--url",
        gateway.url("x").rsplit("/", 1)[0],
        "--stations",
        "2",
        "--ocpp",
        version,
        "--prefix",
        prefix,
        "--duration",
        "6",
        "--sessions",
        "--meter-interval",
        "0.5",
        "--time-scale",
        "120",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    text = out.decode()
    assert process.returncode == 0, text
    assert "registered 2" in text
    booted = {f"{prefix}0001", f"{prefix}0002"}
    await gateway.wait_for(
        lambda: booted <= {e.station_id for _, e in gateway.events if e.type == "station.booted"}
    )


async def test_the_sim_command_refuses_an_unknown_version() -> None:
    process = await asyncio.create_subprocess_exec(
        str(CHARGEGRID),
        "sim",
        "--ocpp",
        "3.0",
        "--duration",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "choose 1.6, 2.0.1 or 2.1" in out.decode()
