"""The site policies, as rounds of water-filling: who rises, up to what, with what weight.

fair: one round, every admitted EVSE by its weight. priority: one round per priority level,
highest first, so a lower level only gets what the higher ones cannot use. deadline: first a
round that lifts every EV with a known departure and energy need towards the current it needs
to finish in time (weighted by that need, so a shortfall is shared as an equal fraction of
each EV's need), then a fair round for whatever is left.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from itertools import groupby

from chargegrid.energy.allocation.model import Evse, PolicyName, SitePolicy

Round = tuple[list[int], list[float], list[float]]


def required_current_a(evse: Evse, now: datetime, voltage_v: float) -> float | None:
    """The current per phase this EV needs to get its energy by its departure, or None when
    it has no known deadline or needs nothing. Past its departure it needs its maximum."""
    if evse.departure_at is None or not evse.energy_needed_wh:
        return None
    hours = (evse.departure_at - now).total_seconds() / 3600.0
    if hours <= 0:
        return evse.max_current_a
    return evse.energy_needed_wh / (hours * voltage_v * len(evse.grid_phases))


def rounds(
    policy: SitePolicy,
    evses: Sequence[Evse],
    admitted: Sequence[int],
    caps: Mapping[int, tuple[float, bool]],
    values: Sequence[float],
    now: datetime,
) -> Iterator[Round]:
    """The filling rounds of `policy`; read lazily, as each round starts from the values the
    previous one left."""
    if policy.name is PolicyName.PRIORITY:
        ordered = sorted(admitted, key=lambda i: -evses[i].priority)
        for _, tier in groupby(ordered, key=lambda i: evses[i].priority):
            yield _fair(evses, list(tier), caps)
        return
    if policy.name is PolicyName.DEADLINE:
        needs = {i: required_current_a(evses[i], now, policy.voltage_v) for i in admitted}
        urgent = [i for i in admitted if needs[i]]
        yield (
            urgent,
            [min(caps[i][0], max(values[i], needs[i] or 0.0)) for i in urgent],
            [needs[i] or 1.0 for i in urgent],
        )
    yield _fair(evses, list(admitted), caps)


def _fair(
    evses: Sequence[Evse], rising: list[int], caps: Mapping[int, tuple[float, bool]]
) -> Round:
    return (rising, [caps[i][0] for i in rising], [evses[i].weight for i in rising])
