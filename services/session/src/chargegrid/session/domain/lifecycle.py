"""Apply transaction facts to a session in whatever order they arrive.

Kafka keeps a station's order, but stations do not: queued offline messages come late with
their original times, a 2.x Ended may be all we ever get, and a reboot can end a session
without any Ended. The rules:

- The first fact about a transaction opens the session, Started or not; a later Started
  fills in the start time, meter start and token without opening it again.
- Ended closes an active session: `completed`, or `interrupted` when the station gives a
  reboot or power loss as the reason or when no Started was seen (the start and meter
  start are then unknown, the energy counts only from the first reading it carried).
- A reboot (1.6), a new transaction on the same outlet, the outlet reported Available or
  Faulted, or the operator closes a running session as `interrupted` (domain/closing.py).
- Status is decided once, when the session closes: facts arriving afterwards (the Ended
  after a reboot, a late Started) complete the data but never reopen or re-close it.
- Readings older than the newest known one mark the energy for a recount over the stored
  series (`needs_energy_recount`), done by the caller who holds the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from chargegrid.session.domain import meter
from chargegrid.session.domain.closing import close_for_reboot
from chargegrid.session.domain.model import (
    COMPLETED,
    INTERRUPTED,
    Ended,
    Rebooted,
    SessionState,
    Started,
    TransactionFact,
    Updated,
    session_id_of,
)

#: Stop reasons (1.6 Reason, 2.x stoppedReason) that mean the station lost the session.
INTERRUPTING_REASONS = frozenset(
    {"Reboot", "PowerLoss", "HardReset", "SoftReset", "ImmediateReset"}
)


def status_at_end(stop_reason: str, started_seen: bool) -> str:
    if not started_seen or stop_reason in INTERRUPTING_REASONS:
        return INTERRUPTED
    return COMPLETED


def _times(fact: TransactionFact) -> list[datetime]:
    return [fact.at, *(s.at for s in fact.samples)]


def new_session(station_id: str, fact: TransactionFact, site_id: str = "") -> SessionState:
    """An empty session for the first fact seen; `apply` fills it in."""
    times = _times(fact)
    started_at = fact.at if isinstance(fact, Started) else min(times)
    return SessionState(
        id=session_id_of(station_id, fact.transaction_id),
        station_id=station_id,
        transaction_id=fact.transaction_id,
        site_id=site_id,
        started_at=started_at,
        updated_at=started_at,
    )


def apply(state: SessionState, fact: TransactionFact) -> None:
    """Fold one fact into `state` (meter figures included)."""
    _identity(state, fact)
    state.offline_data = state.offline_data or fact.offline
    state.updated_at = max(state.updated_at, *_times(fact))
    if isinstance(fact, Started):
        state.started_seen = True
        state.started_at = fact.at
        if fact.meter_start_wh is not None:
            state.meter_start_wh = fact.meter_start_wh
    elif isinstance(fact, Ended):
        state.ended_seen = True
        state.ended_at = fact.at
        if fact.meter_stop_wh is not None:
            state.meter_stop_wh = fact.meter_stop_wh
        state.stop_reason = fact.stop_reason or state.stop_reason
        if state.is_active:
            state.status = status_at_end(state.stop_reason, state.started_seen)
    _meter(state, fact)


def _identity(state: SessionState, fact: TransactionFact) -> None:
    authoritative = isinstance(fact, Started)
    if fact.evse_id and (authoritative or not state.evse_id):
        state.evse_id = fact.evse_id
    if fact.connector_id and (authoritative or not state.connector_id):
        state.connector_id = fact.connector_id
    if fact.id_token and (authoritative or not state.id_token):
        state.id_token, state.id_token_type = fact.id_token, fact.id_token_type


def fact_readings(fact: TransactionFact) -> list[meter.Reading]:
    """The register readings a fact carries, meter start and stop included."""
    readings = meter.register_readings(fact.samples)
    if isinstance(fact, Started) and fact.meter_start_wh is not None:
        readings.append(meter.Reading(fact.at, fact.meter_start_wh, rank=0))
    if isinstance(fact, Ended) and fact.meter_stop_wh is not None:
        readings.append(meter.Reading(fact.at, fact.meter_stop_wh, rank=2))
    return readings


def series_readings(state: SessionState, stored: Iterable[meter.Reading]) -> list[meter.Reading]:
    """The whole register series: stored sample readings plus meter start and stop."""
    readings = list(stored)
    if state.started_seen and state.meter_start_wh is not None:
        readings.append(meter.Reading(state.started_at, state.meter_start_wh, rank=0))
    if state.ended_seen and state.ended_at is not None and state.meter_stop_wh is not None:
        readings.append(meter.Reading(state.ended_at, state.meter_stop_wh, rank=2))
    return readings


def settle_energy(state: SessionState, series: Iterable[meter.Reading]) -> None:
    """Recount energy over the whole series (after a reading arrived out of order)."""
    track = meter.recount(series)
    state.energy_wh, state.last_register_at, state.last_register_wh = (
        track.energy_wh,
        track.last_at,
        track.last_wh,
    )
    state.needs_energy_recount = False


def _meter(state: SessionState, fact: TransactionFact) -> None:
    track = meter.RegisterTrack(state.energy_wh, state.last_register_at, state.last_register_wh)
    # The stop reading ranks after samples of its instant; anything else counts as a sample
    # (a start of the same instant must then recount: it ranks before them).
    stopped_there = state.ended_seen and state.ended_at == state.last_register_at
    advanced = meter.advance(track, fact_readings(fact), last_rank=2 if stopped_there else 1)
    if advanced is None:
        state.needs_energy_recount = True
    else:
        state.energy_wh, state.last_register_at = advanced.energy_wh, advanced.last_at
        state.last_register_wh = advanced.last_wh
    totals = meter.power_totals(fact.samples)
    if totals:
        state.peak_power_w = max(state.peak_power_w, *(watts for _, watts in totals))
        at, watts = totals[-1]
        if state.power_at is None or at >= state.power_at:
            state.power_w, state.power_at = watts, at
    soc = meter.latest(fact.samples, meter.SOC)
    if soc is not None and (state.soc_at is None or soc.at >= state.soc_at):
        state.soc_percent, state.soc_at = soc.value, soc.at
    _charging(state, fact, totals)


def _charging(
    state: SessionState, fact: TransactionFact, totals: list[tuple[datetime, float]]
) -> None:
    observations = [(at, watts > 0) for at, watts in totals]
    if isinstance(fact, Updated) and fact.charging_state:
        observations.append((fact.at, fact.charging_state == "Charging"))
    if isinstance(fact, Ended):
        observations.append((fact.at, False))
    track = meter.observe(
        meter.ChargingTrack(state.charging_s, state.last_observed_at, state.last_observed_charging),
        observations,
    )
    state.charging_s, state.last_observed_at = track.seconds, track.last_at
    state.last_observed_charging = track.charging


def interrupt(state: SessionState, reboot: Rebooted) -> bool:
    """Close a session the reboot ended; False if it was not running before the reboot."""
    return close_for_reboot(state, reboot)
