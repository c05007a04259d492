"""The site controller against a fake StationControl: what it sends, in which order, and how
it treats stations that reject, stay silent or are offline."""

from __future__ import annotations

from datetime import timedelta

from chargegrid.energy.allocation import violations, worst_case_load
from chargegrid.energy.models import DemandResponseRow, SiteSettingsRow, StationSettingsRow
from chargegrid.energy.snapshot import SiteSnapshot
from tests.unit.energy.conftest import Rig
from tests.unit.energy.fakes import T0, a_charging_evse, a_station_state


def _site(rig: Rig, limit_a: float, *stations: str) -> None:
    rig.directory.add_site("S1", limit_a)
    for station_id in stations:
        rig.directory.add_station(station_id, "S1")


def _safe(snapshot: SiteSnapshot) -> bool:
    load = worst_case_load(snapshot.topology, snapshot.evses)
    return not violations(snapshot.topology, load)


def _limits(snapshot: SiteSnapshot) -> dict[str, float]:
    return {k.station_id: a.limit_a for k, a in snapshot.allocation.evses.items()}


async def test_two_evs_share_the_site_and_get_transaction_profiles(rig: Rig) -> None:
    _site(rig, 32, "A", "B")
    await rig.add(a_charging_evse("A"), a_charging_evse("B", started_at=T0 + timedelta(seconds=5)))

    snapshot = await rig.controller().rebalance("test")

    assert _limits(snapshot) == {"A": 16.0, "B": 16.0}
    assert rig.control.tx_limits() == {"A": 16.0, "B": 16.0}
    tx = [s for s in rig.control.sent if s.purpose == "tx"]
    assert {s.transaction_id for s in tx} == {"tx-A", "tx-B"}
    assert _safe(snapshot)
    assert all(not e.stale and e.accepted_a == 16.0 for e in snapshot.evses)
    assert "allocation_changed" in rig.publisher.kinds()


async def test_every_station_first_gets_its_default_profile(rig: Rig) -> None:
    _site(rig, 32, "A")
    await rig.add(a_charging_evse("A"))

    await rig.controller().rebalance("test")

    purposes = [s.purpose for s in rig.control.sent if s.station_id == "A"]
    assert purposes[:2] == ["tx_default", "station_max"]
    default = next(s for s in rig.control.sent if s.purpose == "tx_default")
    assert (default.evse_id, default.limit_a) == (0, 6.0)


async def test_a_new_ev_is_raised_only_after_the_others_accepted_their_lower_limit(
    rig: Rig,
) -> None:
    _site(rig, 32, "A", "B")
    await rig.add(a_charging_evse("A"))
    controller = rig.controller()
    await controller.rebalance("first")
    assert rig.control.tx_limits() == {"A": 32.0}
    rig.control.log.clear()
    rig.control.delay_s = 0.01
    await rig.add(a_charging_evse("B", started_at=T0 + timedelta(minutes=1)))

    snapshot = await controller.rebalance("second")

    assert _limits(snapshot) == {"A": 16.0, "B": 16.0}
    lowered = rig.control.log.index(("answered", "A", 16.0))
    raised = rig.control.log.index(("sent", "B", 16.0))
    assert lowered < raised
    assert _safe(snapshot)


async def test_a_rejecting_station_is_stale_and_counted_at_its_maximum(rig: Rig) -> None:
    _site(rig, 40, "A", "B")
    rig.control.behaviour["A"] = "reject"
    await rig.add(a_charging_evse("A"), a_charging_evse("B", started_at=T0 + timedelta(seconds=1)))

    snapshot = await rig.controller().rebalance("test")

    a, b = sorted(snapshot.evses, key=lambda e: e.key.station_id)
    assert a.stale is not None
    # A rejected its default profile too, so nothing bounds it below its 32 A maximum.
    assert snapshot.worst_case_a["grid"].l1 <= 40.0 + 1e-6
    assert _limits(snapshot)["B"] <= 40.0 - 32.0
    assert "profile_rejected" in rig.publisher.kinds()
    assert _safe(snapshot)
    assert b.stale is None


async def test_a_rejecting_station_is_retried_at_the_periodic_rebalance_without_holding_back(
    rig: Rig,
) -> None:
    _site(rig, 64, "A", "B")
    rig.control.behaviour["A"] = "reject"
    await rig.add(a_charging_evse("A"), a_charging_evse("B", started_at=T0 + timedelta(seconds=1)))
    controller = rig.controller()
    first = await controller.rebalance("test")
    assert _limits(first)["B"] == 32.0  # 64 A less the 32 A A may draw
    assert rig.control.tx_limits()["B"] == 32.0

    def tries() -> int:
        return sum(1 for s in rig.control.sent if s.station_id == "A" and s.purpose == "tx")

    sent_to_a = tries()
    rig.clock.advance(2)
    await rig.add(a_charging_evse("C", started_at=T0 + timedelta(seconds=2)))
    rig.directory.add_station("C", "S1")
    soon = await controller.rebalance("a new EV")
    assert tries() == sent_to_a  # not at every change
    assert _limits(soon)["B"] == _limits(soon)["C"] == 16.0
    assert rig.control.tx_limits()["C"] == 16.0
    rig.clock.advance(rig.deps.settings.rebalance_interval_s)

    later = await controller.rebalance("periodic")

    assert tries() == sent_to_a + 1
    a = next(e for e in later.evses if e.key.station_id == "A")
    assert a.stale == "rejected"
    assert _safe(later)


def _confirming(station_id: str) -> StationSettingsRow:
    return StationSettingsRow(
        station_id=station_id,
        site_id="S1",
        node_id="",
        max_current_a=32.0,
        min_current_a=6.0,
        phases=3,
        rotation="L1,L2,L3",
        offline_fallback_a=0.0,
        confirm_composite=True,
    )


async def test_an_accepted_profile_is_confirmed_by_the_composite_schedule_where_asked(
    rig: Rig,
) -> None:
    _site(rig, 32, "A", "B")
    await rig.add(
        _confirming("A"),
        a_charging_evse("A"),
        a_charging_evse("B", started_at=T0 + timedelta(seconds=1)),
    )

    snapshot = await rig.controller().rebalance("test")

    assert _limits(snapshot) == {"A": 16.0, "B": 16.0}
    assert set(rig.control.composite_asked) == {"A"}  # B's settings do not ask for it
    assert all(e.stale is None and e.accepted_a == 16.0 for e in snapshot.evses)


async def test_a_composite_schedule_above_the_limit_leaves_the_evse_stale_at_that_limit(
    rig: Rig,
) -> None:
    _site(rig, 40, "A", "B")
    rig.control.composite["A"] = 25.0  # said Accepted, still allows 25 A
    await rig.add(
        _confirming("A"),
        a_charging_evse("A"),
        a_charging_evse("B", started_at=T0 + timedelta(seconds=1)),
    )

    snapshot = await rig.controller().rebalance("test")

    a = next(e for e in snapshot.evses if e.key.station_id == "A")
    assert a.stale == "no_answer"
    assert a.accepted_a is not None
    assert a.accepted_a >= 25.0
    assert _limits(snapshot)["B"] <= 40.0 - 25.0
    assert "profile_rejected" in rig.publisher.kinds()
    assert _safe(snapshot)


async def test_a_silent_station_times_out_and_is_stale(rig: Rig) -> None:
    _site(rig, 40, "A", "B")
    rig.control.behaviour["A"] = "silent"
    await rig.add(a_charging_evse("A"), a_charging_evse("B", started_at=T0 + timedelta(seconds=1)))

    snapshot = await rig.controller().rebalance("test")

    a = next(e for e in snapshot.evses if e.key.station_id == "A")
    assert a.stale == "no_answer"
    assert _safe(snapshot)


async def test_an_offline_station_gets_no_profile_and_is_counted_anyway(rig: Rig) -> None:
    _site(rig, 40, "A", "B")
    await rig.add(
        a_charging_evse("A"),
        a_charging_evse("B", started_at=T0 + timedelta(seconds=1)),
        a_station_state("A", online=False),
    )

    snapshot = await rig.controller().rebalance("test")

    assert all(s.station_id != "A" for s in rig.control.sent)
    a = next(e for e in snapshot.evses if e.key.station_id == "A")
    assert a.stale == "offline"
    assert _limits(snapshot)["B"] <= 8.0
    assert _safe(snapshot)


async def test_a_limit_below_the_sum_of_minimums_pauses_the_latest_arrival(rig: Rig) -> None:
    _site(rig, 100, "A", "B", "C")
    await rig.add(
        a_charging_evse("A"),
        a_charging_evse("B", started_at=T0 + timedelta(seconds=1)),
        a_charging_evse("C", started_at=T0 + timedelta(seconds=2)),
        SiteSettingsRow(site_id="S1", operator_limit_a=13, policy="fair", updated_at=T0),
    )

    snapshot = await rig.controller().rebalance("test")

    limits = _limits(snapshot)
    assert limits["C"] == 0.0
    assert min(limits["A"], limits["B"]) >= 6.0
    assert snapshot.paused == 1
    assert _safe(snapshot)


async def test_a_demand_response_lowers_the_site_at_its_start_and_restores_it_at_its_end(
    rig: Rig,
) -> None:
    _site(rig, 32, "A")
    start, end = T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)
    await rig.add(
        a_charging_evse("A"),
        DemandResponseRow(
            id="dr1",
            site_id="S1",
            starts_at=start,
            ends_at=end,
            kind="percent",
            value=50,
            state="scheduled",
            source="operator",
            created_at=T0,
        ),
    )
    controller = rig.controller()
    assert _limits(await controller.rebalance("before"))["A"] == 32.0

    rig.clock.now = start
    during = await controller.rebalance("start")
    assert during.demand_response_id == "dr1"
    assert during.effective_limit_a.l1 == 16.0
    assert rig.control.tx_limits()["A"] == 16.0

    rig.clock.now = end
    after = await controller.rebalance("end")
    assert after.demand_response_id == ""
    assert rig.control.tx_limits()["A"] == 32.0
    kinds = rig.publisher.kinds()
    assert kinds.index("demand_response_started") < kinds.index("demand_response_ended")


async def test_the_controller_wakes_itself_at_the_next_demand_response_boundary(
    rig: Rig,
) -> None:
    _site(rig, 32, "A")
    await rig.add(
        a_charging_evse("A"),
        DemandResponseRow(
            id="dr1",
            site_id="S1",
            starts_at=T0 + timedelta(seconds=10),
            ends_at=T0 + timedelta(minutes=5),
            kind="limit_a",
            value=10,
            state="scheduled",
            source="operator",
            created_at=T0,
        ),
    )
    controller = rig.controller()
    await controller.rebalance("first")

    assert controller._timeout() == 10.0


async def test_an_idle_station_keeps_room_for_what_its_default_profile_allows(rig: Rig) -> None:
    _site(rig, 32, "A", "B")
    await rig.add(a_charging_evse("A"), a_station_state("A"), a_station_state("B"))

    snapshot = await rig.controller().rebalance("test")

    assert _limits(snapshot) == {"A": 26.0, "B": 6.0}
    idle = next(a for k, a in snapshot.allocation.evses.items() if k.station_id == "B")
    assert idle.reason == "idle"
    assert [s.purpose for s in rig.control.sent if s.station_id == "B"] == [
        "tx_default",
        "station_max",
    ]
    assert _safe(snapshot)


async def test_a_station_back_online_is_trusted_again_once_it_accepts_a_profile(
    rig: Rig,
) -> None:
    _site(rig, 40, "A", "B")
    offline = a_station_state("A", online=False)
    await rig.add(a_charging_evse("A"), a_charging_evse("B"), offline)
    controller = rig.controller()
    first = await controller.rebalance("offline")
    assert next(e for e in first.evses if e.key.station_id == "A").stale == "offline"

    async with rig.sessions() as session, session.begin():
        state = await session.get(type(offline), "A")
        assert state is not None
        state.online = True
    back = await controller.rebalance("online")

    a = next(e for e in back.evses if e.key.station_id == "A")
    assert a.stale is None
    assert rig.control.tx_limits()["A"] == a.accepted_a
    assert _safe(back)


async def test_a_raise_of_less_than_an_amp_is_not_sent_but_a_lowering_always_is(
    rig: Rig,
) -> None:
    _site(rig, 32, "A", "B")
    await rig.add(a_charging_evse("A"), a_charging_evse("B", started_at=T0 + timedelta(seconds=5)))
    controller = rig.controller()
    await controller.rebalance("first")
    assert rig.control.tx_limits() == {"A": 16.0, "B": 16.0}
    sent = len(rig.control.sent)

    rig.directory.add_site("S1", 33.5)  # 16.75 A each: a raise of 0.75 A
    snapshot = await controller.rebalance("a little more room")
    assert len(rig.control.sent) == sent
    assert {e.key.station_id: e.accepted_a for e in snapshot.evses} == {"A": 16.0, "B": 16.0}
    assert _safe(snapshot)

    rig.directory.add_site("S1", 31.6)  # 15.8 A each: lowered, however little
    await controller.rebalance("a little less room")
    assert rig.control.tx_limits() == {"A": 15.8, "B": 15.8}

    rig.directory.add_site("S1", 36)  # 18 A each: a raise of 2.2 A
    await controller.rebalance("more room")
    assert rig.control.tx_limits() == {"A": 18.0, "B": 18.0}
