"""Session rules applied in any order: what opens, what closes, and with which status."""

from __future__ import annotations

from chargegrid.session.domain import meter
from chargegrid.session.domain.lifecycle import (
    apply,
    interrupt,
    new_session,
    series_readings,
    settle_energy,
)
from chargegrid.session.domain.model import (
    ACTIVE,
    COMPLETED,
    INTERRUPTED,
    Rebooted,
    SessionState,
    TransactionFact,
)
from tests.unit.session.builders import a_start, an_end, an_update, at, power, register


def run(*facts: TransactionFact) -> SessionState:
    state = new_session("CP-1", facts[0], "site-1")
    stored: list[meter.Reading] = []
    for fact in facts:
        apply(state, fact)
        stored += meter.register_readings(fact.samples)
        if state.needs_energy_recount:
            settle_energy(state, series_readings(state, stored))
    return state


def test_a_normal_session_completes_with_energy_peak_and_charging_time() -> None:
    state = run(
        a_start(),
        an_update(10, register(10, 2000), power(10, 6000)),
        an_update(20, register(20, 3500), power(20, 9000)),
        an_end(30, meter_stop=4000),
    )
    assert state.id == "CP-1:42"
    assert state.status == COMPLETED
    assert state.energy_wh == 3000
    assert state.peak_power_w == 9000
    assert state.charging_s == 20 * 60  # from the first observation of charging to the end
    assert (state.started_at, state.ended_at) == (at(0), at(30))
    assert (state.meter_start_wh, state.meter_stop_wh, state.stop_reason) == (1000, 4000, "Local")


def test_an_update_before_the_start_opens_the_session_and_the_start_fills_it_in() -> None:
    state = run(an_update(10, register(10, 2000)), a_start(), an_end(20, meter_stop=2500))
    assert state.started_seen
    assert state.started_at == at(0)
    assert state.id_token == "TAG1"
    assert state.energy_wh == 1500
    assert state.status == COMPLETED


def test_an_end_without_a_start_is_interrupted_and_starts_at_its_earliest_sample() -> None:
    state = run(an_end(30, meter_stop=3000, samples=(register(5, 1000), register(30, 3000))))
    assert state.status == INTERRUPTED
    assert state.started_at == at(5)
    assert state.energy_wh == 2000


def test_a_stop_for_a_power_loss_is_interrupted() -> None:
    assert run(a_start(), an_end(5, 1200, stop_reason="PowerLoss")).status == INTERRUPTED


def test_a_late_start_does_not_change_the_status_decided_at_close() -> None:
    state = run(an_end(30, meter_stop=3000), a_start())
    assert state.status == INTERRUPTED
    assert state.energy_wh == 2000  # the late meter start completes the data
    assert state.needs_energy_recount is False


def test_samples_older_than_the_stored_ones_give_the_same_energy_as_in_order() -> None:
    in_order = run(a_start(), an_update(10, register(10, 1500)), an_update(20, register(20, 2500)))
    shuffled = run(a_start(), an_update(20, register(20, 2500)), an_update(10, register(10, 1500)))
    assert shuffled.energy_wh == in_order.energy_wh == 1500


def test_a_register_reset_mid_session_keeps_energy_positive() -> None:
    state = run(
        a_start(meter_start_wh=50_000),
        an_update(10, register(10, 52_000)),
        an_update(20, register(20, 100)),
        an_end(30, meter_stop=600),
    )
    assert state.energy_wh == 2000 + 500


def test_a_reboot_interrupts_a_session_that_started_before_it() -> None:
    state = run(a_start(), an_update(10, register(10, 2000), power(10, 7000)))
    assert interrupt(state, Rebooted("CP-1", at(15)))
    assert state.status == INTERRUPTED
    assert (state.ended_at, state.stop_reason, state.energy_wh) == (at(15), "Reboot", 1000)
    assert state.power_w == 0


def test_a_reboot_leaves_a_session_started_after_it_alone() -> None:
    state = run(a_start(at=at(20)))
    assert not interrupt(state, Rebooted("CP-1", at(15)))
    assert state.status == ACTIVE


def test_an_end_after_a_reboot_completes_the_data_but_not_the_status() -> None:
    state = run(a_start(), an_update(10, register(10, 2000)))
    interrupt(state, Rebooted("CP-1", at(15)))
    apply(state, an_end(12, meter_stop=2200, stop_reason="PowerLoss"))
    assert state.status == INTERRUPTED
    assert (state.ended_at, state.meter_stop_wh, state.energy_wh) == (at(12), 2200, 1200)


def test_the_latest_power_and_soc_win_whatever_order_they_came_in() -> None:
    state = run(a_start(), an_update(20, power(20, 3000)), an_update(10, power(10, 9000)))
    assert (state.power_w, state.peak_power_w) == (3000, 9000)


def test_offline_queued_messages_keep_their_times_and_mark_the_session() -> None:
    state = run(a_start(offline=True), an_update(10, register(10, 1500), offline=True))
    assert state.offline_data
    assert state.updated_at == at(10)


def test_a_1_6_stop_without_evse_keeps_the_connector_of_the_start() -> None:
    state = run(a_start(evse_id=2, connector_id=2), an_end(5, 1100, evse_id=0, connector_id=0))
    assert (state.evse_id, state.connector_id) == (2, 2)
