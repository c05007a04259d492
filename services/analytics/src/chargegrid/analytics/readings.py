"""Register readings out of transaction events, and the energy between two of them.

Energy comes from the total active-import register of the charger's own meter: the meter
start, every sampled reading and the meter stop of a transaction. The energy between two
consecutive readings (a positive step only: a reset or a lower reading counts nothing, as
the session service counts) is spread evenly over the time between them, so an ongoing
session counts in the windows where it flowed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from chargegrid.analytics.windows import window_start, windows_between
from chargegrid.api.transaction.v1 import events_pb2 as tx

REGISTER = "Energy.Active.Import.Register"
TOTAL_PHASES = frozenset({"", "N"})
METER_LOCATIONS = frozenset({"", "Outlet"})
UNIT_WH = {"": 1.0, "Wh": 1.0, "kWh": 1000.0}
#: Readings of one instant: meter start first, then samples, then the meter stop.
RANK_START, RANK_SAMPLE, RANK_STOP = 0, 1, 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Reading:
    transaction_id: str
    evse_id: int
    at: datetime
    rank: int
    wh: float

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.at, self.rank)


def _samples(transaction_id: str, evse_id: int, samples: Iterable[tx.MeterSample]) -> list[Reading]:
    found = []
    for s in samples:
        if s.measurand != REGISTER:  # most samples (power, current, voltage, SoC): first out
            continue
        factor = UNIT_WH.get(s.unit)
        if (
            factor is None
            or s.phase not in TOTAL_PHASES
            or s.location not in METER_LOCATIONS
            or not s.HasField("timestamp")
        ):
            continue
        stamp = s.timestamp
        # What Timestamp.ToDatetime computes, without its pure-Python layers.
        at = EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
        found.append(Reading(transaction_id, evse_id, at, RANK_SAMPLE, s.value * factor))
    return found


def started_readings(event: tx.TransactionStarted) -> list[Reading]:
    readings = _samples(event.transaction_id, event.evse_id, event.samples)
    if event.HasField("meter_start_wh") and event.HasField("started_at"):
        at = event.started_at.ToDatetime(tzinfo=UTC)
        readings.append(
            Reading(event.transaction_id, event.evse_id, at, RANK_START, event.meter_start_wh)
        )
    return readings


def updated_readings(event: tx.TransactionUpdated) -> list[Reading]:
    return _samples(event.transaction_id, event.evse_id, event.samples)


def ended_readings(event: tx.TransactionEnded) -> list[Reading]:
    readings = _samples(event.transaction_id, event.evse_id, event.samples)
    if event.HasField("meter_stop_wh") and event.HasField("ended_at"):
        at = event.ended_at.ToDatetime(tzinfo=UTC)
        readings.append(
            Reading(event.transaction_id, event.evse_id, at, RANK_STOP, event.meter_stop_wh)
        )
    return readings


WindowKey = tuple[int, datetime]  # (evse id, window start)


def chain_energy(readings: Sequence[Reading]) -> dict[WindowKey, float]:
    """Wh per (EVSE, window) of consecutive readings (already in order)."""
    out: dict[WindowKey, float] = defaultdict(float)
    for before, after in pairwise(readings):
        step = after.wh - before.wh
        if step <= 0:
            continue
        evse = after.evse_id or before.evse_id
        span = (after.at - before.at).total_seconds()
        if span <= 0:
            out[(evse, window_start(after.at))] += step
            continue
        for start, seconds in windows_between(before.at, after.at):
            out[(evse, start)] += step * seconds / span
    return out


def energy_change(existing: Sequence[Reading], merged: Sequence[Reading]) -> dict[WindowKey, float]:
    """What the windows gain when the chain `existing` becomes `merged` (both ordered)."""
    change = chain_energy(merged)
    for key, wh in chain_energy(existing).items():
        change[key] = change.get(key, 0.0) - wh
    return {key: wh for key, wh in change.items() if wh != 0.0}
