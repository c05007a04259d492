"""What an EV draws, per station phase, from the meter samples of a transaction event,
and the energy register (what it was delivered so far).

Only `Current.Import` per phase is a measurement of current; a sample on "L1-N" or "L1"
counts for L1. A sample without a phase is the total of a 1-phase meter, put on L1.
The newest sample of each phase wins; None means the meter said nothing about it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from chargegrid.api.transaction.v1 import events_pb2 as tx

CURRENT = "Current.Import"
ENERGY = "Energy.Active.Import.Register"
PHASE_NAMES = ("L1", "L2", "L3")
#: A phase carrying less than this is not used by the EV (noise, standby).
PHASE_IN_USE_A = 1.0


def _phase_index(phase: str) -> int | None:
    if not phase:
        return 0
    head = phase.split("-", 1)[0].upper()
    return PHASE_NAMES.index(head) if head in PHASE_NAMES else None


def _amps(sample: tx.MeterSample) -> float | None:
    value = float(sample.value)
    if not math.isfinite(value) or value < 0:
        return None
    return value / 1000.0 if sample.unit == "mA" else value


def currents(
    samples: Iterable[tx.MeterSample],
) -> tuple[tuple[float | None, float | None, float | None], datetime | None]:
    """Measured current per station phase, and when the newest of them was taken."""
    found: list[float | None] = [None, None, None]
    newest: datetime | None = None
    for sample in samples:
        if sample.measurand != CURRENT or sample.location not in ("", "Outlet"):
            continue
        index = _phase_index(sample.phase)
        amps = _amps(sample)
        if index is None or amps is None:
            continue
        found[index] = amps
        if sample.HasField("timestamp"):
            taken = sample.timestamp.ToDatetime(tzinfo=UTC)
            newest = taken if newest is None or taken > newest else newest
    return (found[0], found[1], found[2]), newest


def energy_register_wh(samples: Iterable[tx.MeterSample]) -> float | None:
    """The station's total import register (Wh; the gateway scales kWh), the last one sent;
    None without one. Phase registers are left out: their sum would count twice."""
    found: float | None = None
    for sample in samples:
        if sample.measurand != ENERGY or sample.phase or sample.location not in ("", "Outlet"):
            continue
        value = float(sample.value)
        if math.isfinite(value) and value >= 0 and sample.unit in ("", "Wh"):
            found = value
    return found


def phases_in_use(measured: tuple[float, ...]) -> int | None:
    """How many of the station's phases the EV draws on (None while it draws nothing)."""
    used = [amps >= PHASE_IN_USE_A for amps in measured]
    if not any(used):
        return None
    return 1 if used[0] and not any(used[1:]) else len(measured)
