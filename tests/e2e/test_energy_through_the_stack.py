"""Load balancing through the real stack: `chargegrid dev`, simulated 1.6 and 2.0.1 stations
that obey their charging profiles, one site whose limit is below the sum of their maxima.

What the stations really draw (the simulator's own power, not what energy believes) is
sampled all along: it never exceeds the site's limit, a new EV gets its share within a few
seconds, and a demand-response event lowers the site from its start and restores it after.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

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
VERSIONS = ("1.6", "2.0.1", "1.6", "2.0.1")


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


def has_default_profile(station: Station) -> bool:
    return any(p.purpose == Purpose.TX_DEFAULT for p in station.profiles.installed())


async def test_a_site_under_its_limit_with_mixed_stations_and_a_demand_response(
    stack: Stack,
) -> None:
    await asyncio.to_thread(stack.wait_for_output, "admin API token")
    await asyncio.to_thread(
        stack.cli, "sites", "add", "Energy e2e", "--id", SITE, "--grid-limit-a", str(LIMIT_A)
    )
    stack.cli("tokens", "add", "E2EENERGY")
    stations: list[Station] = []
    for number, version in enumerate(VERSIONS):
        station_id = f"E2E-EN-{number}"
        stack.cli("stations", "add", station_id, "--site", SITE)
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

        first, second, third, fourth = stations
        for station in (first, second):
            station.plug_in(1, ev=ev, id_tag="E2EENERGY")
        both = time.monotonic()
        await wait_for(
            lambda: min(drawn_a(first), drawn_a(second)) >= LIMIT_A / 2 - 1, 20, "two EVs at 20 A"
        )
        third.plug_in(1, ev=ev, id_tag="E2EENERGY")
        arrived = time.monotonic()
        share_after = await wait_for(lambda: drawn_a(third) >= LIMIT_A / 3 - 1, 10, "a new share")
        assert share_after < 10

        shown = json.loads(stack.cli("energy", "show", SITE, "--json").stdout)
        assert len(shown["evses"]) == 3
        assert {e["station_id"] for e in shown["evses"]} == {
            s.config.station_id for s in stations[:3]
        }

        # Bad input changes nothing.
        refused = stack.cli("energy", "limit", SITE, "-5", check=False)
        assert refused.returncode != 0
        unknown = stack.cli("energy", "limit", "NO-SUCH-SITE", "10", check=False)
        assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr

        dr = json.loads(
            stack.cli(
                "energy",
                "dr",
                "add",
                SITE,
                "--start",
                "+3s",
                "--end",
                "+13s",
                "--percent",
                "50",
                "--json",
            ).stdout
        )
        overlapping = stack.cli(
            "energy",
            "dr",
            "add",
            SITE,
            "--start",
            "+5s",
            "--end",
            "+8s",
            "--percent",
            "10",
            check=False,
        )
        assert overlapping.returncode == 1 and "overlaps" in overlapping.stderr
        dr_start = arrived + (time.monotonic() - arrived) + 3  # about when it begins
        await wait_for(
            lambda: sum(map(drawn_a, stations)) <= LIMIT_A / 2 + TOLERANCE_A, 8, "DR lowering"
        )
        lowered = time.monotonic()
        assert lowered - dr_start <= SETTLE_S + 1
        await asyncio.sleep(10 - (time.monotonic() - dr_start))
        dr_end = time.monotonic() + 0.5
        await wait_for(lambda: sum(map(drawn_a, stations)) >= LIMIT_A - 3, 10, "restored after DR")
        listed = json.loads(stack.cli("energy", "dr", "list", SITE, "--all", "--json").stdout)
        assert any(e["id"] == dr["id"] and e["state"].endswith("ENDED") for e in listed)
        finished = time.monotonic()
    except AssertionError:
        # What energy and the gateway said is what explains a failure here.
        lines = [line for line in stack.output().splitlines() if "energy" in line]
        print("\n".join(lines[-80:]))
        print({s.config.station_id: drawn_a(s) for s in stations})
        print(stack.cli("energy", "show", SITE, "--json", check=False).stdout)
        raise
    finally:
        sampling.cancel()
        for station in stations:
            await station.stop()
    del fourth, both
    # The site's real draw: never above the limit, and under half of it during the event
    # (after the few seconds a station takes to obey).
    assert sampler.peak(0, dr_start + SETTLE_S) <= LIMIT_A + TOLERANCE_A
    assert sampler.peak(dr_start + SETTLE_S, dr_end - 1) <= LIMIT_A / 2 + TOLERANCE_A
    assert sampler.peak(dr_end, finished) <= LIMIT_A + TOLERANCE_A
