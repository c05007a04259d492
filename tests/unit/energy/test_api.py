"""The Energy API refuses bad input with a clear error and changes nothing; a limit below the
sum of minimums is accepted and says how many EVSEs pause."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.energy.api import ApiDeps, EnergyService
from chargegrid.energy.models import CircuitRow
from chargegrid.energy.supervisor import Supervisor
from chargegrid.platform.grpc import FailedPrecondition, InvalidArgument, NotFound
from chargegrid.platform.leader import LocalElector
from tests.unit.energy.conftest import Rig
from tests.unit.energy.fakes import T0, a_charging_evse


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[EnergyService]:
    rig.directory.add_site("S1", 32)
    for station_id in ("A", "B", "C"):
        rig.directory.add_station(station_id, "S1")
    supervisor = Supervisor(rig.deps, lambda site: LocalElector(f"test-{site}"))
    ids = (f"id{n}" for n in itertools.count())
    deps = ApiDeps(
        rig.sessions,
        rig.directory,
        supervisor,
        rig.publisher,
        rig.deps.settings,
        rig.clock,
        lambda: next(ids),
    )
    yield EnergyService(deps)
    await supervisor.stop()


def _at(minutes: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(T0 + timedelta(minutes=minutes))
    return stamp


def _circuit(circuit_id: str, parent: str = "", amps: float = 20) -> pb.CreateCircuitRequest:
    return pb.CreateCircuitRequest(
        site_id="S1",
        circuit_id=circuit_id,
        parent_id=parent,
        limit_a=pb.PhaseCurrents(l1=amps, l2=amps, l3=amps),
    )


async def test_a_limit_below_the_minimums_is_accepted_and_says_who_pauses(
    rig: Rig, api: EnergyService
) -> None:
    await rig.add(
        a_charging_evse("A"),
        a_charging_evse("B", started_at=T0 + timedelta(seconds=1)),
        a_charging_evse("C", started_at=T0 + timedelta(seconds=2)),
    )

    reply = await api.SetLimit(pb.SetLimitRequest(site_id="S1", limit_a=13), None)

    assert reply.paused_evses == 1
    assert any("1 EVSE(s) paused" in w for w in reply.warnings)
    assert reply.load.effective_limit_a.l1 == 13


@pytest.mark.parametrize("amps", [-1.0, float("nan"), float("inf"), 1e6])
async def test_negative_or_absurd_limits_are_refused(api: EnergyService, amps: float) -> None:
    with pytest.raises(InvalidArgument):
        await api.SetLimit(pb.SetLimitRequest(site_id="S1", limit_a=amps), None)
    load = await api.GetSiteLoad(pb.GetSiteLoadRequest(site_id="S1"), None)
    assert load.operator_limit_a == 0


async def test_unknown_sites_and_stations_are_refused(api: EnergyService) -> None:
    with pytest.raises(NotFound):
        await api.SetLimit(pb.SetLimitRequest(site_id="NOPE", limit_a=10), None)
    settings = pb.StationSettings(station_id="NOPE", max_current_a=16, min_current_a=6, phases=3)
    with pytest.raises(NotFound):
        await api.SetStationSettings(pb.SetStationSettingsRequest(settings=settings), None)


async def test_a_circuit_tree_with_a_cycle_or_an_unknown_parent_is_refused(
    rig: Rig, api: EnergyService
) -> None:
    await api.CreateCircuit(_circuit("C1"), None)
    await api.CreateCircuit(_circuit("C2", parent="C1"), None)
    with pytest.raises(NotFound):
        await api.CreateCircuit(_circuit("C3", parent="missing"), None)
    cycle = pb.UpdateCircuitRequest(
        site_id="S1", circuit_id="C1", parent_id="C2", limit_a=pb.PhaseCurrents(l1=20)
    )
    with pytest.raises(InvalidArgument, match="cycle"):
        await api.UpdateCircuit(cycle, None)
    async with rig.sessions() as session:
        c1 = await session.get(CircuitRow, ("S1", "C1"))
    assert c1 is not None
    assert c1.parent_id == ""


async def test_overlapping_demand_responses_are_refused(api: EnergyService) -> None:
    first = pb.CreateDemandResponseRequest(site_id="S1", start=_at(10), end=_at(20), percent=50)
    created = await api.CreateDemandResponse(first, None)
    clash = pb.CreateDemandResponseRequest(site_id="S1", start=_at(15), end=_at(30), limit_a=10)
    with pytest.raises(FailedPrecondition, match="overlaps"):
        await api.CreateDemandResponse(clash, None)
    listed = await api.ListDemandResponses(pb.ListDemandResponsesRequest(site_id="S1"), None)
    assert [e.id for e in listed.events] == [created.id]


@pytest.mark.parametrize(
    "request_",
    [
        pb.CreateDemandResponseRequest(site_id="S1", start=_at(10), end=_at(5), percent=50),
        pb.CreateDemandResponseRequest(site_id="S1", start=_at(-20), end=_at(-10), percent=50),
        pb.CreateDemandResponseRequest(site_id="S1", start=_at(10), end=_at(20), percent=150),
        pb.CreateDemandResponseRequest(site_id="S1", start=_at(10), end=_at(20)),
    ],
    ids=["end before start", "over already", "percent above 100", "no reduced limit"],
)
async def test_impossible_demand_responses_are_refused(
    api: EnergyService, request_: pb.CreateDemandResponseRequest
) -> None:
    with pytest.raises(InvalidArgument):
        await api.CreateDemandResponse(request_, None)


async def test_composite_confirmation_is_a_station_setting_off_by_default(
    rig: Rig, api: EnergyService
) -> None:
    asked = pb.GetStationSettingsRequest(station_id="A")
    assert not (await api.GetStationSettings(asked, None)).confirm_with_composite_schedule
    settings = pb.StationSettings(
        station_id="A",
        max_current_a=32,
        min_current_a=6,
        phases=3,
        confirm_with_composite_schedule=True,
    )
    saved = await api.SetStationSettings(pb.SetStationSettingsRequest(settings=settings), None)
    assert saved.confirm_with_composite_schedule
    assert (await api.GetStationSettings(asked, None)).confirm_with_composite_schedule
