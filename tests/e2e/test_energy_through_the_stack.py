"""Load balancing through the real stack: `chargegrid dev`, simulated 1.6 and 2.0.1 stations
that obey their charging profiles, one site whose limit is below the sum of their maxima.

What the stations really draw (the simulator's own power, not what energy believes) is
sampled all along: it never exceeds the site's limit, a new EV gets its share within a few
seconds, and a demand-response event lowers the site from its start and restores it after.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.api.energy.v1.energy_pb2_grpc import EnergyStub
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import EVSpec, Station, StationConfig, create_station
from chargegrid.simulator.profiles import Purpose
from tests.e2e.conftest import Stack

SITE = "E2E-ENERGY"
LIMIT_A = 40.0
VOLTAGE_V = 230.0
#: What the meters and 0.1 A profile steps allow beyond the limit.
TOLERANCE_A = 0.5
#: A station obeys a new profile within this (energy sends, gateway forwards, station applies).
SETTLE_S = 3.0
#: Each station's default profile (the station minimum): what an idle one is kept room for.
DEFAULT_A = 6.0
VERSIONS = ("1.6", "2.0.1", "1.6", "2.0.1")


def _stamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def drawn_a(station: Station) -> float:
    """Per phase, what the station's EVs draw now (3-phase stations at 230 V)."""
    watts = sum(s.power_w for s in station.charging.active_sessions())
    return watts / (VOLTAGE_V * station.config.phases)


@dataclass
class Sampler:
    stations: list[Station]
    samples: list[tuple[float, float]] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), sum(map(drawn_a, self.stations))))
            await asyncio.sleep(0.05)

    def peak(self, start: float, end: float) -> float:
        return max((amps for at, amps in self.samples if start <= at <= end), default=0.0)


async def wait_for(condition, timeout_s: float, what: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `condition()` holds; fails after `timeout_s`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{what} not within {timeout_s:g} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def cli(stack: Stack, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The CLI in a thread: the simulated stations must keep running meanwhile."""
    return await asyncio.to_thread(stack.cli, *args, check=check)


def has_default_profile(station: Station) -> bool:
    return any(p.purpose == Purpose.TX_DEFAULT for p in station.profiles.installed())


# The stack alone takes 30-60 s to start on a loaded two-core machine; the test after it ~40 s.
@pytest.mark.timeout(300)
async def test_a_site_under_its_limit_with_mixed_stations_and_a_demand_response(
    stack: Stack,
) -> None:
    await asyncio.to_thread(stack.wait_for_output, "admin API token")
    await cli(stack, "sites", "add", "Energy e2e", "--id", SITE, "--grid-limit-a", str(LIMIT_A))
    stations: list[Station] = []
    for number, version in enumerate(VERSIONS):
        station_id = f"E2E-EN-{number}"
        await cli(stack, "stations", "add", station_id, "--site", SITE)
        # One card per EV: a card holds one transaction at a time.
        await cli(stack, "tokens", "add", f"E2EENERGY{number}")
        config = StationConfig(station_id=station_id, meter_interval_s=1.0, max_current_a=32.0)
        stations.append(create_station(version, config, stack.ocpp_url))
    sampler = Sampler(stations)
    sampling = asyncio.create_task(sampler.run())
    ev = EVSpec(capacity_kwh=80, initial_soc_percent=10, max_power_w=32 * 3 * VOLTAGE_V)
    try:
        for station in stations:
            await station.start()
        for station in stations:
            await station.wait_registered(30)
        # Every station gets its default profile at boot, before any EV plugs in.
        await wait_for(lambda: all(map(has_default_profile, stations)), 30, "default profiles")

        first, second, third = stations[:3]
        for number, station in enumerate((first, second)):
            station.plug_in(1, ev=ev, id_tag=f"E2EENERGY{number}")
        # Two idle stations keep room for their 6 A default profiles: 2 x 14 A to share.
        two_share = (LIMIT_A - 2 * DEFAULT_A) / 2
        await wait_for(
            lambda: min(drawn_a(first), drawn_a(second)) >= two_share - 1, 20, "two EVs' shares"
        )
        third.plug_in(1, ev=ev, id_tag="E2EENERGY2")
        three_share = (LIMIT_A - DEFAULT_A) / 3
        share_after = await wait_for(
            lambda: drawn_a(third) >= three_share - 1, 10, "the new EV's share"
        )
        assert share_after < 10

        shown = json.loads((await cli(stack, "energy", "show", SITE, "--json")).stdout)
        charging = {e["station_id"] for e in shown["evses"] if e.get("transaction_id")}
        assert charging == {s.config.station_id for s in stations[:3]}

        # Through gRPC, not the CLI: a CLI process takes seconds to start on a loaded machine,
        # and the event's window is seconds long.
        start_at = datetime.now(UTC) + timedelta(seconds=4)
        end_at = start_at + timedelta(seconds=10)
        to_monotonic = time.monotonic() - datetime.now(UTC).timestamp()
        dr_start, dr_end = start_at.timestamp() + to_monotonic, end_at.timestamp() + to_monotonic
        channel = create_channel(stack.address("energy"), token=stack.admin_token)
        try:
            energy = EnergyStub(channel)
            window = {"site_id": SITE, "start": _stamp(start_at), "end": _stamp(end_at)}
            dr = await energy.CreateDemandResponse(
                pb.CreateDemandResponseRequest(**window, percent=50)
            )
            with pytest.raises(grpc.aio.AioRpcError) as overlapping:
                await energy.CreateDemandResponse(
                    pb.CreateDemandResponseRequest(**window, limit_a=10)
                )
        finally:
            await channel.close()
        assert overlapping.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "overlaps" in (overlapping.value.details() or "")
        await asyncio.sleep(max(0.0, dr_start - time.monotonic()))
        lowered_after = await wait_for(
            lambda: sum(map(drawn_a, stations)) <= LIMIT_A / 2 + TOLERANCE_A, 8, "DR lowering"
        )
        assert lowered_after <= SETTLE_S
        await asyncio.sleep(max(0.0, dr_end - time.monotonic()))
        restored_after = await wait_for(
            lambda: sum(map(drawn_a, stations)) >= LIMIT_A - DEFAULT_A - 3, 10, "restored after DR"
        )
        listed = json.loads(
            (await cli(stack, "energy", "dr", "list", SITE, "--all", "--json")).stdout
        )
        assert any(e["id"] == dr.id and e["state"].endswith("ENDED") for e in listed)
        finished = time.monotonic()
        print(
            f"new EV at its share after {share_after:.1f} s; DR lowered the site "
            f"{lowered_after:.1f} s after its start, restored {restored_after:.1f} s after its end"
        )
    except AssertionError:
        # What energy and the gateway said is what explains a failure here.
        lines = [line for line in stack.output().splitlines() if "energy" in line]
        print("\n".join(lines[-80:]))
        print({s.config.station_id: drawn_a(s) for s in stations})
        print((await cli(stack, "energy", "show", SITE, "--json", check=False)).stdout)
        raise
    finally:
        sampling.cancel()
        for station in stations:
            await station.stop()
    # The site's real draw: never above the limit, and under half of it during the event
    # (after the few seconds a station takes to obey).
    assert sampler.peak(0, dr_start + SETTLE_S) <= LIMIT_A + TOLERANCE_A
    assert sampler.peak(dr_start + SETTLE_S, dr_end) <= LIMIT_A / 2 + TOLERANCE_A
    assert sampler.peak(dr_end, finished) <= LIMIT_A + TOLERANCE_A
    print(
        f"peak draw {sampler.peak(0, finished):.1f} A (limit {LIMIT_A:g}); during the event "
        f"{sampler.peak(dr_start + SETTLE_S, dr_end):.1f} A (limit {LIMIT_A / 2:g})"
    )
