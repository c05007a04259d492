"""bench_energy_rebalance's readings: when a site counts as settled after an EV arrived, what
the simulated stations record as accepted, and its percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from bench.bench_energy_rebalance import Accepted, RecordingProfiles, _percentiles, _settled
from chargegrid.api.energy.v1 import energy_pb2 as en
from chargegrid.simulator.profiles import ChargingProfile, Kind, Purpose, SchedulePeriod

T0 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
NEW = ("S2", 1)


def a_load(*evses: en.EvseLoad, at: datetime = T0) -> en.SiteLoad:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return en.SiteLoad(site_id="X", evses=evses, computed_at=stamp)


def charging(station: str, allocated: float, accepted: float, **more: object) -> en.EvseLoad:
    fields: dict[str, object] = {"reason": en.ALLOCATION_REASON_CAPPED_BY_NODE, **more}
    return en.EvseLoad(
        station_id=station,
        evse_id=1,
        transaction_id=f"tx-{station}",
        allocated_a=allocated,
        accepted_a=accepted,
        **fields,  # type: ignore[arg-type]
    )


def test_settled_once_every_charging_evse_holds_its_allocation() -> None:
    done = a_load(charging("S1", 13.0, 13.0), charging("S2", 13.0, 13.0))
    assert _settled(done, NEW, T0)


def test_not_settled_while_a_lowering_is_pending_or_a_raise_not_sent() -> None:
    pending = a_load(charging("S1", 13.0, 32.0, pending_a=13.0), charging("S2", 13.0, 6.0))
    assert not _settled(pending, NEW, T0)
    lowered = a_load(charging("S1", 13.0, 13.0), charging("S2", 13.0, 6.0))
    assert not _settled(lowered, NEW, T0)
    stale = a_load(charging("S1", 13.0, 13.0, stale=True), charging("S2", 13.0, 13.0))
    assert not _settled(stale, NEW, T0)


def test_the_new_ev_must_be_allocated_as_charging_in_a_snapshot_after_it_arrived() -> None:
    # Its default profile matches the idle allocation: that is not its share yet.
    idle = charging("S2", 6.0, 6.0, reason=en.ALLOCATION_REASON_IDLE)
    assert not _settled(a_load(charging("S1", 32.0, 32.0), idle), NEW, T0)
    assert not _settled(a_load(charging("S1", 32.0, 32.0)), NEW, T0)
    before = a_load(charging("S1", 13.0, 13.0), charging("S2", 13.0, 13.0), at=T0)
    assert not _settled(before, NEW, T0 + timedelta(seconds=1))


def profile(purpose: Purpose, limit: float, profile_id: int, connector: int = 1) -> ChargingProfile:
    return ChargingProfile(
        profile_id=profile_id,
        connector_id=connector,
        stack_level=1,
        purpose=purpose,
        kind=Kind.RELATIVE,
        unit="A",
        periods=(SchedulePeriod(0, limit),),
        installed_at=T0,
    )


def test_stations_record_the_tx_profiles_they_install_not_their_defaults() -> None:
    accepted = Accepted()
    store = RecordingProfiles("S1", accepted)
    store.install(profile(Purpose.TX_DEFAULT, 6.0, 1, connector=0))
    store.install(profile(Purpose.TX, 13.5, 11))
    assert [(s, e, a) for _, s, e, a in accepted.log] == [("S1", 1, 13.5)]
    assert [p.purpose for p in store.installed()] == [Purpose.TX_DEFAULT, Purpose.TX]
    assert accepted.since(accepted.log[0][0] + 1) == []


def test_percentiles_of_few_samples_take_the_slowest_as_p99() -> None:
    found = _percentiles([0.3, 0.5, 2.4, 0.4])
    assert found == {"count": 4, "p50_ms": 450.0, "p99_ms": 2400.0, "max_ms": 2400.0}
    assert _percentiles([]) == {"count": 0}
