"""Which facts close a session the station lost, and which leave it running."""

from __future__ import annotations

from chargegrid.session.domain.closing import (
    close_by_operator,
    close_for_freed_outlet,
    close_for_new_transaction,
    close_for_reboot,
    close_for_transaction_status,
)
from chargegrid.session.domain.model import (
    ACTIVE,
    INTERRUPTED,
    EndSession,
    OutletFreed,
    Rebooted,
    TransactionStatusReported,
)
from tests.unit.session.builders import a_start, an_update, at, register
from tests.unit.session.test_lifecycle import run


def test_a_1_6_reboot_closes_a_running_session_but_a_2_x_boot_does_not() -> None:
    state = run(a_start())
    assert not close_for_reboot(state, Rebooted("CP-1", at(5), resumes_transactions=True))
    assert state.status == ACTIVE
    assert close_for_reboot(state, Rebooted("CP-1", at(5)))
    assert (state.status, state.stop_reason) == (INTERRUPTED, "Reboot")


def test_a_new_transaction_on_the_same_evse_closes_the_old_one_at_its_start() -> None:
    state = run(a_start(), an_update(5, register(5, 1800)))
    assert close_for_new_transaction(state, a_start(transaction_id="43", at=at(9)))
    assert (state.status, state.ended_at, state.energy_wh) == (INTERRUPTED, at(9), 800)
    assert state.stop_reason == "NewTransaction"


def test_a_transaction_on_another_evse_or_the_same_one_again_closes_nothing() -> None:
    state = run(a_start())
    other_evse = a_start(transaction_id="43", at=at(9), evse_id=2, connector_id=2)
    assert not close_for_new_transaction(state, other_evse)
    assert not close_for_new_transaction(state, a_start(at=at(9)))
    assert not close_for_new_transaction(state, a_start(transaction_id="41", at=at(-1)))
    assert state.status == ACTIVE


def test_available_or_faulted_on_the_outlet_closes_it_and_other_statuses_do_not() -> None:
    for freeing in ("Available", "Faulted"):
        state = run(a_start())
        assert close_for_freed_outlet(state, OutletFreed("CP-1", at(3), 1, 1, freeing))
        assert state.stop_reason == f"Connector{freeing}"
    state = run(a_start())
    assert not close_for_freed_outlet(state, OutletFreed("CP-1", at(3), 1, 1, "Occupied"))
    assert not close_for_freed_outlet(state, OutletFreed("CP-1", at(3), 2, 2, "Available"))
    assert not close_for_freed_outlet(state, OutletFreed("CP-1", at(-1), 1, 1, "Available"))
    assert state.status == ACTIVE


def test_the_operator_closes_an_active_session_and_nothing_closes_it_twice() -> None:
    state = run(a_start())
    assert close_by_operator(state, EndSession(state.id, at(30)))
    assert (state.status, state.stop_reason, state.ended_at) == (
        INTERRUPTED,
        "EndedByOperator",
        at(30),
    )
    assert not close_by_operator(state, EndSession(state.id, at(31)))
    assert not close_for_reboot(state, Rebooted("CP-1", at(40)))
    assert state.ended_at == at(30)


def reported(booted_minute: float, *, ongoing: bool, queued: bool) -> TransactionStatusReported:
    return TransactionStatusReported("CP-1:42", at(booted_minute), ongoing, queued)


def test_a_station_saying_after_its_boot_it_lost_the_transaction_closes_it_at_the_boot() -> None:
    state = run(a_start(), an_update(5, register(5, 1800)))
    assert close_for_transaction_status(state, reported(10, ongoing=False, queued=False))
    assert (state.status, state.stop_reason, state.ended_at) == (INTERRUPTED, "NotOngoing", at(10))
    assert state.energy_wh == 800
    assert not close_for_transaction_status(state, reported(12, ongoing=False, queued=False))
    assert state.ended_at == at(10)


def test_an_ongoing_transaction_or_one_with_messages_queued_stays_open() -> None:
    state = run(a_start())
    assert not close_for_transaction_status(state, reported(10, ongoing=True, queued=False))
    assert not close_for_transaction_status(state, reported(10, ongoing=False, queued=True))
    assert not close_for_transaction_status(state, reported(10, ongoing=True, queued=True))
    assert state.status == ACTIVE


def test_a_not_ongoing_answer_about_a_boot_before_the_start_closes_nothing() -> None:
    state = run(a_start(at=at(20)))
    assert not close_for_transaction_status(state, reported(10, ongoing=False, queued=False))
    assert state.status == ACTIVE
