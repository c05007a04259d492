"""Closing a session the station lost: a reboot, a new transaction on its outlet, the outlet
reported free (Available, Faulted), or the operator's word.

Stations lose transactions (power cuts, firmware faults, a StopTransaction that never
comes); left open, such a session would hold its card "in a transaction" for good. Each of
these facts closes it `interrupted`, ended at the fact's time, with what was measured until
then (the meter stop is the last reading). A late Ended still completes the figures
(`lifecycle.apply`) without re-closing. Station facts close only sessions that started
before them: the topics are not ordered with one another, so a status sent before a start
may be handled after it, and a start handled after such a fact is closed by it
(`close_for_marks`). A 2.x station resumes its transactions after a boot and reports
them, so its boot alone closes nothing; its EVSE reported Available does, and so does its
answer to GetTransactionStatus after the boot that the transaction is not ongoing and no
message about it is queued (`close_for_transaction_status`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from chargegrid.session.domain.model import (
    ACTIVE,
    INTERRUPTED,
    EndSession,
    OutletFreed,
    Rebooted,
    SessionState,
    TransactionFact,
    TransactionStatusReported,
)

REBOOT_REASON = "Reboot"
NEW_TRANSACTION_REASON = "NewTransaction"
OPERATOR_REASON = "EndedByOperator"
NOT_ONGOING_REASON = "NotOngoing"
#: Connector statuses that mean nothing charges there.
FREEING_STATUSES = frozenset({"Available", "Faulted"})


def _close(state: SessionState, at: datetime, reason: str) -> None:
    state.status = INTERRUPTED
    state.ended_at = at
    state.stop_reason = reason
    state.last_observed_charging = False
    state.power_w = 0.0


def _close_if_older(state: SessionState, at: datetime, reason: str) -> bool:
    if state.status != ACTIVE or state.started_at >= at:
        return False
    _close(state, at, reason)
    return True


def on_outlet(state: SessionState, evse_id: int, connector_id: int) -> bool:
    """True when the session runs on this EVSE (2.x) or connector (1.6: evse = connector)."""
    if evse_id and state.evse_id:
        return state.evse_id == evse_id
    if connector_id and state.connector_id:
        return state.connector_id == connector_id
    return False


def close_for_reboot(state: SessionState, reboot: Rebooted) -> bool:
    """Close a session the reboot ended; False if it survives it or started after it."""
    if reboot.resumes_transactions:
        return False
    return _close_if_older(state, reboot.at, REBOOT_REASON)


def close_for_new_transaction(state: SessionState, fact: TransactionFact) -> bool:
    """A new transaction on the same outlet ends whatever ran there before it."""
    if state.transaction_id == fact.transaction_id:
        return False
    if not on_outlet(state, fact.evse_id, fact.connector_id):
        return False
    return _close_if_older(state, fact.at, NEW_TRANSACTION_REASON)


def close_for_freed_outlet(state: SessionState, freed: OutletFreed) -> bool:
    if freed.status not in FREEING_STATUSES:
        return False
    if not on_outlet(state, freed.evse_id, freed.connector_id):
        return False
    return _close_if_older(state, freed.at, f"Connector{freed.status}")


def close_by_operator(state: SessionState, command: EndSession) -> bool:
    """The operator's word ends an active session now (never before it started)."""
    if state.status != ACTIVE:
        return False
    _close(state, max(command.at, state.started_at), OPERATOR_REASON)
    return True


def close_for_transaction_status(state: SessionState, report: TransactionStatusReported) -> bool:
    """The station says, after its boot, it no longer runs the transaction and holds nothing
    about it to send: it was lost at the boot. Queued messages will still tell the story."""
    if report.ongoing or report.messages_in_queue:
        return False
    return _close_if_older(state, report.booted_at, NOT_ONGOING_REASON)


def close_for_marks(state: SessionState, marks: Iterable[Rebooted | OutletFreed]) -> bool:
    """Close a session by station facts handled before it (oldest first: the first one
    after its start is when it was lost)."""
    for mark in marks:
        if isinstance(mark, Rebooted):
            closed = close_for_reboot(state, mark)
        else:
            closed = close_for_freed_outlet(state, mark)
        if closed:
            return True
    return False
