"""The pure models behind the simulator: EV, meter, profiles, local list, firmware naming."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from chargegrid.simulator import ElectricVehicle, EVSpec, create_station
from chargegrid.simulator.composite import Window, composite_schedule
from chargegrid.simulator.firmware import version_from_location
from chargegrid.simulator.local_auth import AuthEntry, ListUpdateResult, LocalAuthList
from chargegrid.simulator.meter import EnergyMeter, MeterReading
from chargegrid.simulator.profiles import (
    ChargingProfile,
    Kind,
    ProfileStore,
    Purpose,
    SchedulePeriod,
)

from .builders import ManualClock, a_config
from .csms_double import CsmsDouble

T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def a_profile(**overrides: object) -> ChargingProfile:
    values: dict[str, object] = {
        "profile_id": 1,
        "connector_id": 1,
        "stack_level": 0,
        "purpose": Purpose.TX_DEFAULT,
        "kind": Kind.ABSOLUTE,
        "unit": "W",
        "periods": (SchedulePeriod(0, 7000.0),),
        "installed_at": T0,
        "start_schedule": T0,
    }
    values.update(overrides)
    return ChargingProfile(**values)  # type: ignore[arg-type]


def connector_limit(
    store: ProfileStore, moment: datetime, tx_start: datetime | None = T0
) -> float | None:
    return store.connector_limit_w(
        1, moment, tx_start=tx_start, transaction_id="tx-1", voltage_v=230.0, phases=3
    )


def test_ev_draws_full_power_until_the_taper_then_less_and_nothing_when_full() -> None:
    ev = ElectricVehicle(EVSpec(capacity_kwh=10.0, initial_soc_percent=50.0, max_power_w=10_000.0))
    assert ev.acceptance_w() == 10_000.0

    ev.absorb(4_000.0)
    assert ev.soc_percent == pytest.approx(90.0)
    assert ev.acceptance_w() == pytest.approx(5_000.0)

    taken = ev.absorb(5_000.0)
    assert taken == pytest.approx(1_000.0)
    assert ev.full
    assert ev.acceptance_w() == 0.0


def test_taper_never_falls_below_its_floor_so_the_battery_does_fill() -> None:
    ev = ElectricVehicle(EVSpec(capacity_kwh=10.0, initial_soc_percent=99.9, max_power_w=10_000.0))

    assert ev.acceptance_w() == pytest.approx(500.0)


def test_energy_register_never_runs_backwards() -> None:
    meter = EnergyMeter(100.0)
    meter.add(5.5)

    with pytest.raises(ValueError):
        meter.add(-1.0)
    assert meter.register_wh == 105.5


def test_meter_reading_reports_current_per_phase_from_power_and_voltage() -> None:
    reading = MeterReading(
        energy_wh=1234.56, power_w=6900.0, voltage_v=230.0, phases=3, soc_percent=42.0
    )

    samples = reading.samples()
    currents = [s for s in samples if s.measurand == "Current.Import"]

    assert [s.phase for s in currents] == ["L1", "L2", "L3"]
    assert {s.value for s in currents} == {10.0}
    assert samples[0].value == pytest.approx(1234.56)
    assert [s.unit for s in samples if s.measurand == "SoC"] == ["Percent"]


def test_tx_profile_beats_tx_default_and_the_highest_stack_level_wins() -> None:
    store = ProfileStore()
    store.install(a_profile(profile_id=1, stack_level=0, periods=(SchedulePeriod(0, 9000.0),)))
    store.install(a_profile(profile_id=2, stack_level=3, periods=(SchedulePeriod(0, 8000.0),)))
    assert connector_limit(store, T0 + timedelta(minutes=1)) == 8000.0

    store.install(
        a_profile(
            profile_id=3,
            purpose=Purpose.TX,
            kind=Kind.RELATIVE,
            unit="A",
            periods=(SchedulePeriod(0, 6.0),),
            start_schedule=None,
        )
    )
    assert connector_limit(store, T0 + timedelta(minutes=1)) == pytest.approx(6 * 230 * 3)

    store.clear_transaction(1)
    assert connector_limit(store, T0 + timedelta(minutes=1)) == 8000.0


def test_relative_schedule_follows_the_transaction_start_and_ends_after_its_duration() -> None:
    store = ProfileStore()
    periods = (SchedulePeriod(0, 11000.0), SchedulePeriod(600, 3000.0, phases=1))
    store.install(a_profile(kind=Kind.RELATIVE, unit="W", periods=periods, duration_s=1200))
    started = T0 + timedelta(hours=1)

    assert connector_limit(store, started + timedelta(seconds=10), started) == 11000.0
    assert connector_limit(store, started + timedelta(seconds=700), started) == 3000.0
    assert connector_limit(store, started + timedelta(seconds=1300), started) is None


def test_daily_recurring_profile_repeats_every_day() -> None:
    store = ProfileStore()
    night = (SchedulePeriod(0, 3000.0), SchedulePeriod(8 * 3600, 11000.0))
    store.install(
        a_profile(
            kind=Kind.RECURRING,
            recurrency="Daily",
            periods=night,
            start_schedule=T0.replace(hour=0),
        )
    )

    assert connector_limit(store, T0.replace(hour=2) + timedelta(days=3)) == 3000.0
    assert connector_limit(store, T0.replace(hour=12) + timedelta(days=3)) == 11000.0


def test_profile_outside_its_validity_is_ignored() -> None:
    store = ProfileStore()
    store.install(a_profile(valid_to=T0 + timedelta(hours=1)))

    assert connector_limit(store, T0 + timedelta(minutes=30)) == 7000.0
    assert connector_limit(store, T0 + timedelta(hours=2)) is None


def test_same_purpose_and_stack_level_replaces_the_older_profile() -> None:
    store = ProfileStore()
    store.install(a_profile(profile_id=1, periods=(SchedulePeriod(0, 7000.0),)))
    store.install(a_profile(profile_id=2, periods=(SchedulePeriod(0, 5000.0),)))

    assert [p.profile_id for p in store.installed()] == [2]


def test_composite_schedule_in_amps_takes_the_lowest_limit_at_every_change() -> None:
    store = ProfileStore()
    store.install(
        a_profile(
            connector_id=0,
            purpose=Purpose.STATION_MAX,
            periods=(SchedulePeriod(0, 13800.0), SchedulePeriod(900, 6900.0)),
        )
    )
    window = Window(
        connector_id=1,
        start=T0,
        duration_s=1800,
        unit="A",
        voltage_v=230.0,
        phases=3,
        connector_max_w=22080.0,
    )

    schedule = composite_schedule(store, window)

    assert [(p.start_s, p.limit) for p in schedule.periods] == [(0, 20.0), (900, 10.0)]


def test_local_list_full_update_replaces_and_differential_must_raise_the_version() -> None:
    local = LocalAuthList()
    assert (
        local.update(3, full=True, entries=[AuthEntry("a", "Accepted")])
        is ListUpdateResult.ACCEPTED
    )
    assert local.update(3, full=False, entries=[AuthEntry("b", "Accepted")]) is (
        ListUpdateResult.VERSION_MISMATCH
    )
    assert local.update(
        4, full=False, entries=[AuthEntry("A", None), AuthEntry("b", "Blocked")]
    ) is (ListUpdateResult.ACCEPTED)

    assert (local.version, len(local)) == (4, 1)
    assert local.status_of("B", T0) == "Blocked"


def test_expired_local_list_entry_reads_as_expired() -> None:
    local = LocalAuthList()
    local.update(1, full=True, entries=[AuthEntry("a", "Accepted", expires_at=T0)])

    assert local.status_of("a", T0 - timedelta(seconds=1)) == "Accepted"
    assert local.status_of("a", T0) == "Expired"


def test_new_firmware_version_comes_from_the_file_name() -> None:
    assert version_from_location("https://fw.example/x/sim-fw-2.0.0.bin") == "sim-fw-2.0.0"
    assert version_from_location("ftp://fw.example/fw/v3.tar.gz") == "v3"


async def test_energy_follows_the_injected_clock_not_the_wall_clock(csms: CsmsDouble) -> None:
    clock = ManualClock(T0)
    station = create_station(
        "1.6", a_config(station_id="SIM-CLOCK", time_scale=1.0), csms.url, clock=clock
    )
    try:
        await station.start()
        await station.wait_registered(5)
        session = station.plug_in(1)
        await asyncio.wait_for(session.transaction_started.wait(), 5)
        await csms.wait_for(
            station.station_id, "StatusNotification", lambda s: s["status"] == "Charging"
        )

        clock.advance(3600)
        await csms.wait_for(station.station_id, "MeterValues", count=2)
        session.request_stop()
        stop = (await csms.wait_for(station.station_id, "StopTransaction"))[0]
    finally:
        await station.stop()

    assert stop["meterStop"] == 11_000
    assert stop["timestamp"].startswith("2025-01-06T09:00:00")
