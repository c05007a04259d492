"""The deadline policy asks for the energy an EV still needs: what the meter delivered since
the EV stated its need is subtracted, so an EV nearly done yields to one that is not."""

from __future__ import annotations

from datetime import timedelta

from chargegrid.energy import site_model
from chargegrid.energy.allocation import Evse, PolicyName, SitePolicy, allocate
from chargegrid.energy.models import ChargingEvseRow
from chargegrid.energy.site_model import StationDefaults, energy_still_needed_wh
from tests.unit.energy.allocation_builders import a_site
from tests.unit.energy.fakes import T0, a_charging_evse

DEPARTURE = T0 + timedelta(hours=1)


def _row(station_id: str, needed_wh: float, at_need_wh: float, now_wh: float) -> ChargingEvseRow:
    return a_charging_evse(
        station_id,
        departure_at=DEPARTURE,
        energy_needed_wh=needed_wh,
        needs_register_wh=at_need_wh,
        energy_register_wh=now_wh,
    )


def _evse(row: ChargingEvseRow) -> Evse:
    return site_model.evse(row, None, None, None, StationDefaults(), 32.0, set(), None)


def test_still_needed_is_the_need_less_what_was_delivered_since() -> None:
    assert energy_still_needed_wh(_row("A", 20_000, 1_000, 16_000)) == 5_000
    assert energy_still_needed_wh(_row("A", 20_000, 1_000, 30_000)) == 0
    # No register yet (or none since the need): the whole need.
    assert energy_still_needed_wh(a_charging_evse("A", energy_needed_wh=20_000)) == 20_000
    assert energy_still_needed_wh(a_charging_evse("A")) is None


def test_an_ev_nearly_done_yields_to_one_that_needs_its_whole_energy() -> None:
    nearly_done = _evse(_row("A", 20_000, 0, 15_000))
    not_started = _evse(_row("B", 20_000, 0, 0))
    assert nearly_done.energy_needed_wh == 5_000

    allocation = allocate(
        a_site(36), [nearly_done, not_started], SitePolicy(name=PolicyName.DEADLINE), T0
    )

    # B needs 20 kWh / (1 h x 230 V x 3) = 29 A; A only 7.2 A for its last 5 kWh.
    assert allocation.limit_for(not_started.key) >= 28.0
    assert allocation.limit_for(nearly_done.key) <= 8.0
