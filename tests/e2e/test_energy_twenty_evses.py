"""Issue 15's "Done when", through the real stack: `chargegrid dev`, twenty simulated 1.6 and
2.0.1 stations that obey their charging profiles (one that rejects every profile, one whose
connection drops), one site whose 240 A limit is far below their 20 x 32 A.

What the stations really draw (the simulator's own power, not what energy believes) is
sampled all along: it never exceeds the site's limit beyond meter resolution; a new EV gets
its share within a few seconds (also on a station whose profiles are confirmed with
GetCompositeSchedule); the rejecting station is counted at its maximum and the
dropped one at what it had accepted while the rest stay under the limit; a demand-response
event lowers the site from its start and restores it after; a limit below the sum of the
minimums is accepted with "N EVSE(s) paused"; bad input is refused. Once with energy on
SQLite, once on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as auth_pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.api.energy.v1.energy_pb2_grpc import EnergyStub
from chargegrid.api.stations.v1 import stations_pb2 as st_pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import EVSpec, Station, StationConfig, create_station
from chargegrid.simulator.profiles import Purpose
from tests.e2e.conftest import Stack
from tests.e2e.test_energy_through_the_stack import Sampler, _stamp, drawn_a, wait_for

if TYPE_CHECKING:
    from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationAsyncStub
    from chargegrid.api.energy.v1.energy_pb2_grpc import EnergyAsyncStub
    from chargegrid.api.stations.v1.stations_pb2_grpc import StationsAsyncStub

SITE = "E2E-TWENTY"
LIMIT_A = 240.0
VOLTAGE_V = 230.0
STATIONS = 20
MAX_A = 32.0
MIN_A = 6.0
#: What the meters and 0.1 A profile steps allow beyond a limit (20 stations' rounding).
TOLERANCE_A = 1.0
#: A station obeys a new profile within this (energy sends, gateway forwards, station applies).
SETTLE_S = 3.0
REJECTING, DROPPING = 0, 1
#: A 2.0.1 station whose accepted profiles energy checks with GetCompositeSchedule.
CONFIRMING = 3
#: Charging from the start, besides the rejecting station; the rest arrive one by one.
FIRST_WAVE = range(2, 15)


@pytest.fixture(params=["sqlite", "postgres"])
def energy_database(request: pytest.FixtureRequest) -> str:
    """Where energy keeps its tables: "sqlite" (its default file) or a PostgreSQL URL."""
    if request.param == "sqlite":
        return "sqlite"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def stack(energy_database: str, tmp_path: Path) -> Iterator[Stack]:
    """The dev stack with energy's database on SQLite or PostgreSQL."""
    env = {} if energy_database == "sqlite" else {"CHARGEGRID_ENERGY_DATABASE_URL": energy_database}
    running = Stack(tmp_path, env)
    try:
        yield running
    finally:
        running.stop()


def _config(number: int) -> StationConfig:
    return StationConfig(
        station_id=f"E2E-TW-{number:02d}",
        meter_interval_s=2.0,
        max_current_a=MAX_A,
        reject_charging_profiles=number == REJECTING,
    )


def _version(number: int) -> str:
    return "1.6" if number % 2 == 0 else "2.0.1"


def _token(number: int) -> str:
    return f"E2ETWENTY{number:02d}"


async def _refused(call: Any, code: grpc.StatusCode, text: str = "") -> str:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    assert refused.value.code() == code, refused.value
    details = refused.value.details() or ""
    assert text in details
    return details


async def _bad_input_is_refused(energy: EnergyAsyncStub) -> None:
    for amps in (-1.0, 1e9, float("nan")):
        await _refused(
            energy.SetLimit(pb.SetLimitRequest(site_id=SITE, limit_a=amps)),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    await _refused(
        energy.SetLimit(pb.SetLimitRequest(site_id="NO-SUCH-SITE", limit_a=100)),
        grpc.StatusCode.NOT_FOUND,
    )
    unknown = pb.StationSettings(station_id="NO-SUCH-STATION", max_current_a=32, phases=3)
    await _refused(
        energy.SetStationSettings(pb.SetStationSettingsRequest(settings=unknown)),
        grpc.StatusCode.NOT_FOUND,
    )
    soon = datetime.now(UTC) + timedelta(hours=1)
    window = {"site_id": SITE, "start": _stamp(soon), "end": _stamp(soon + timedelta(hours=1))}
    await _refused(
        energy.CreateDemandResponse(pb.CreateDemandResponseRequest(**window, limit_a=-5)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    first = await energy.CreateDemandResponse(pb.CreateDemandResponseRequest(**window, percent=80))
    later = soon + timedelta(minutes=30)
    overlapping = {**window, "start": _stamp(later), "end": _stamp(later + timedelta(hours=1))}
    await _refused(
        energy.CreateDemandResponse(pb.CreateDemandResponseRequest(**overlapping, limit_a=100)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "overlaps",
    )
    await energy.CancelDemandResponse(pb.CancelDemandResponseRequest(id=first.id))
    # A circuit tree without cycles: A feeds B; making B feed A is refused.
    limit = pb.PhaseCurrents(l1=LIMIT_A, l2=LIMIT_A, l3=LIMIT_A)
    await energy.CreateCircuit(pb.CreateCircuitRequest(site_id=SITE, circuit_id="A", limit_a=limit))
    await energy.CreateCircuit(
        pb.CreateCircuitRequest(site_id=SITE, circuit_id="B", parent_id="A", limit_a=limit)
    )
    await _refused(
        energy.UpdateCircuit(
            pb.UpdateCircuitRequest(site_id=SITE, circuit_id="A", parent_id="B", limit_a=limit)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    await _refused(
        energy.CreateCircuit(
            pb.CreateCircuitRequest(
                site_id=SITE, circuit_id="C", limit_a=pb.PhaseCurrents(l1=40000, l2=0, l3=0)
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    for circuit in ("B", "A"):
        await energy.DeleteCircuit(pb.DeleteCircuitRequest(site_id=SITE, circuit_id=circuit))


async def _register(stations_channel: grpc.aio.Channel, auth_channel: grpc.aio.Channel) -> None:
    """The site, its stations and one card per EV, over gRPC (sixty CLI processes would take
    minutes on a loaded machine)."""
    stations: StationsAsyncStub = StationsStub(stations_channel)
    site = st_pb.Site(id=SITE, name="Twenty EVSEs", grid_limit_a=LIMIT_A, grid_phases=3)
    await stations.CreateSite(st_pb.CreateSiteRequest(site=site))
    authorization: AuthorizationAsyncStub = AuthorizationStub(auth_channel)
    for number in range(STATIONS):
        station = st_pb.Station(
            id=_config(number).station_id,
            site_id=SITE,
            registration_status=st_pb.REGISTRATION_STATUS_ACCEPTED,
        )
        await stations.CreateStation(st_pb.CreateStationRequest(station=station))
        token = auth_pb.Token(
            id_token=_token(number),
            type=auth_pb.TOKEN_TYPE_ISO14443,
            status=auth_pb.AUTHORIZATION_STATUS_ACCEPTED,
            source="local",
        )
        await authorization.CreateToken(auth_pb.CreateTokenRequest(token=token))


def _evse(load: pb.SiteLoad, station: Station) -> pb.EvseLoad:
    return next(e for e in load.evses if e.station_id == station.config.station_id)


def _has_default_profile(station: Station) -> bool:
    return any(p.purpose == Purpose.TX_DEFAULT for p in station.profiles.installed())


def _total(stations: list[Station]) -> Callable[[], float]:
    return lambda: sum(map(drawn_a, stations))


# The stack alone takes 30-60 s to start on a loaded two-core machine.
@pytest.mark.timeout(360)
async def test_twenty_evses_stay_under_the_site_limit_with_a_rejecting_and_a_dropping_station(
    stack: Stack, energy_database: str
) -> None:
    await asyncio.to_thread(stack.wait_for_output, "admin API token")
    stations = [create_station(_version(n), _config(n), stack.ocpp_url) for n in range(STATIONS)]
    sampler = Sampler(stations)
    sampling = asyncio.create_task(sampler.run())
    ev = EVSpec(capacity_kwh=80, initial_soc_percent=10, max_power_w=MAX_A * 3 * VOLTAGE_V)
    channel = create_channel(stack.address("energy"), token=stack.admin_token)
    admin = create_channel(stack.address("stations"), token=stack.admin_token)
    auth = create_channel(stack.address("authorization"), token=stack.admin_token)
    energy: EnergyAsyncStub = EnergyStub(channel)
    rejecting, dropping = stations[REJECTING], stations[DROPPING]
    figures: dict[str, float] = {}
    try:
        # "admin API token" is printed before every service listens: wait for those asked.
        for each in (admin, auth, channel):
            await asyncio.wait_for(each.channel_ready(), 90)
        await _register(admin, auth)
        await _bad_input_is_refused(energy)
        confirming = pb.StationSettings(
            station_id=_config(CONFIRMING).station_id,
            max_current_a=MAX_A,
            min_current_a=MIN_A,
            phases=3,
            confirm_with_composite_schedule=True,
        )
        await energy.SetStationSettings(pb.SetStationSettingsRequest(settings=confirming))
        for station in stations:
            await station.start()
        for station in stations:
            await station.wait_registered(60)
        # Defaults at boot: 240 A / 20 leaves each 12 A; each keeps its 6 A minimum.
        obeying = stations[1:]
        await wait_for(lambda: all(map(_has_default_profile, obeying)), 60, "default profiles")

        # The rejecting station first: it draws its full 32 A, whatever energy says.
        rejecting.plug_in(1, ev=ev, id_tag=_token(REJECTING))
        await wait_for(lambda: drawn_a(rejecting) >= MAX_A - 1, 20, "the rejecting EV charging")

        async def stale(station: Station) -> bool:
            load = await energy.GetSiteLoad(pb.GetSiteLoadRequest(site_id=SITE))
            return any(e.stale for e in load.evses if e.station_id == station.config.station_id)

        await _until(lambda: stale(rejecting), 20, "the rejecting station stale")

        # Thirteen EVs at once, then one more: each gets its share of what the rejecting
        # station (32 A) and the idle stations' defaults (6 A each) leave.
        wave = [stations[n] for n in FIRST_WAVE]
        for number in FIRST_WAVE:
            stations[number].plug_in(1, ev=ev, id_tag=_token(number))
        idle = STATIONS - 1 - len(wave)
        share = (LIMIT_A - MAX_A - idle * MIN_A) / len(wave)
        await wait_for(
            lambda: min(map(drawn_a, wave)) >= share - 1, 30, f"{len(wave)} EVs at {share:.1f} A"
        )

        # The composite schedule of the confirming station showed its limit in force (the
        # station obeys it already while energy still waits for that answer).
        async def confirmed() -> bool:
            load = await energy.GetSiteLoad(pb.GetSiteLoadRequest(site_id=SITE))
            evse = _evse(load, stations[CONFIRMING])
            return not evse.stale and evse.accepted_a >= share - 1

        await _until(confirmed, 10, "the confirming station's share confirmed")
        newcomer = stations[15]
        newcomer.plug_in(1, ev=ev, id_tag=_token(15))
        share = (LIMIT_A - MAX_A - (idle - 1) * MIN_A) / (len(wave) + 1)
        figures["new EV at its share after s"] = await wait_for(
            lambda: drawn_a(newcomer) >= share - 1, 15, "the new EV's share"
        )
        assert figures["new EV at its share after s"] <= 10
        assert drawn_a(rejecting) >= MAX_A - 1  # still drawing all it wants

        # The dropping station charges, then loses its connection: it keeps drawing what it
        # had accepted, energy counts it so, and a newcomer meanwhile fits around it.
        dropping.plug_in(1, ev=ev, id_tag=_token(DROPPING))
        await wait_for(lambda: drawn_a(dropping) >= MIN_A + 1, 20, "the dropping EV charging")
        dropping.drop_connection(25)
        held_at = drawn_a(dropping)
        await _until(lambda: stale(dropping), 20, "the dropped station offline")
        load = await energy.GetSiteLoad(pb.GetSiteLoadRequest(site_id=SITE))
        assert _evse(load, dropping).accepted_a >= held_at - TOLERANCE_A
        late = stations[16]
        late.plug_in(1, ev=ev, id_tag=_token(16))
        await wait_for(lambda: drawn_a(late) >= MIN_A - 0.5, 15, "an EV while one is offline")
        await wait_for(lambda: dropping.registered, 40, "the dropped station back")

        async def trusted_again() -> bool:
            return not await stale(dropping)

        # Back, it is offered a profile at once and trusted again once it accepts it.
        await _until(trusted_again, 15, "the dropped station trusted again")

        # A limit below the sum of the minimums is accepted: it pauses EVSEs instead.
        reply = await energy.SetLimit(pb.SetLimitRequest(site_id=SITE, limit_a=60))
        assert reply.paused_evses > 0
        assert any(f"{reply.paused_evses} EVSE(s) paused" in w for w in reply.warnings)
        await wait_for(_below(stations, 60), 10, "the site under 60 A")
        figures["paused at 60 A"] = reply.paused_evses
        await energy.SetLimit(pb.SetLimitRequest(site_id=SITE, limit_a=0))
        # Restored: every charging EV draws at least its minimum again.
        charging = [s for s in stations if s.charging.active_sessions()]
        await wait_for(
            lambda: min(map(drawn_a, charging)) >= MIN_A - 0.5, 20, "every EV charging again"
        )

        # A demand response halves the site for ten seconds.
        start_at = datetime.now(UTC) + timedelta(seconds=4)
        end_at = start_at + timedelta(seconds=10)
        to_monotonic = time.monotonic() - datetime.now(UTC).timestamp()
        dr_start, dr_end = start_at.timestamp() + to_monotonic, end_at.timestamp() + to_monotonic
        window = {"site_id": SITE, "start": _stamp(start_at), "end": _stamp(end_at)}
        await energy.CreateDemandResponse(pb.CreateDemandResponseRequest(**window, percent=50))
        await asyncio.sleep(max(0.0, dr_start - time.monotonic()))
        figures["DR lowered after s"] = await wait_for(
            _below(stations, LIMIT_A / 2), 8, "DR lowering"
        )
        assert figures["DR lowered after s"] <= SETTLE_S
        await asyncio.sleep(max(0.0, dr_end - time.monotonic()))
        busy = len([s for s in stations if s.charging.active_sessions()])
        restored = min(LIMIT_A - (STATIONS - busy) * MIN_A, busy * MAX_A) - 2 * busy
        figures["restored after the DR in s"] = await wait_for(
            lambda: _total(stations)() >= restored, 15, "restored after DR"
        )
        finished = time.monotonic()
    except AssertionError:
        # What energy and the gateway said is what explains a failure here.
        lines = [line for line in stack.output().splitlines() if "energy" in line]
        print("\n".join(lines[-120:]))
        print({s.config.station_id: round(drawn_a(s), 1) for s in stations})
        raise
    finally:
        sampling.cancel()
        await asyncio.gather(*(s.stop(timeout_s=5) for s in stations), return_exceptions=True)
        for open_channel in (channel, admin, auth):
            await open_channel.close()
    # The site's real draw over the whole run: never above its limit, under the operator's
    # 60 A and the event's half once the stations had time to obey.
    assert sampler.peak(0, dr_start + SETTLE_S) <= LIMIT_A + TOLERANCE_A
    assert sampler.peak(dr_start + SETTLE_S, dr_end) <= LIMIT_A / 2 + TOLERANCE_A
    assert sampler.peak(dr_end, finished) <= LIMIT_A + TOLERANCE_A
    figures["peak A"] = sampler.peak(0, finished)
    figures["peak during the DR A"] = sampler.peak(dr_start + SETTLE_S, dr_end)
    # Energy really ran on the database asked for.
    assert (stack.var_dir / "energy.db").exists() == (energy_database == "sqlite")
    print({name: round(value, 1) for name, value in figures.items()})


def _below(stations: list[Station], limit_a: float) -> Callable[[], bool]:
    return lambda: _total(stations)() <= limit_a + TOLERANCE_A


async def _until(check: Callable[[], Any], timeout_s: float, what: str) -> None:
    """Until the coroutine `check()` returns true; fails after `timeout_s`."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{what} not within {timeout_s:g} s")
        await asyncio.sleep(0.2)
