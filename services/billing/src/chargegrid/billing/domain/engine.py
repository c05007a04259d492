"""The cost engine: a pure function from a tariff and a usage timeline to a cost breakdown.

Per period (see `periods`), each dimension is priced by the first element, in list order,
whose restrictions hold at the period's midpoint and which has a component of that dimension
(OCPI 2.2.1): ENERGY for the energy taken, TIME while charging, PARKING_TIME while connected
and not charging. FLAT is charged once, from the first period with an active FLAT component.
Step sizes apply to the session's total of a dimension, billed by the step size of its last
line: the total is rounded up to whole steps and the difference added to that last line.
Rounding: see `money`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chargegrid.billing.domain.money import ZERO, round_total
from chargegrid.billing.domain.periods import Period, split
from chargegrid.billing.domain.restrictions import Moment, matches
from chargegrid.billing.domain.tariffs import Dimension, PriceComponent, Tariff
from chargegrid.billing.domain.timeline import UsagePoint, seconds

HUNDRED = Decimal(100)
#: Base units (Wh, s) per billed unit (kWh, h).
UNIT = {Dimension.ENERGY: Decimal(1000), Dimension.TIME: Decimal(3600)}
UNIT[Dimension.PARKING_TIME] = UNIT[Dimension.TIME]


@dataclass(frozen=True)
class CostLine:
    dimension: Dimension
    start: datetime
    end: datetime
    #: kWh, hours or 1 (FLAT), after step sizes, unrounded.
    quantity: Decimal
    unit_price: Decimal
    amount_excl_vat: Decimal
    vat_percent: Decimal
    amount_vat: Decimal


@dataclass(frozen=True)
class CostBreakdown:
    currency: str
    tariff_id: str
    tariff_version: int
    lines: tuple[CostLine, ...]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal


@dataclass(frozen=True)
class _Raw:
    """A line before step sizes, in base units (Wh, s, or 1)."""

    dimension: Dimension
    element: int
    component: PriceComponent
    start: datetime
    end: datetime
    base: Decimal


def _moment(period: Period, session_start: datetime, tz: ZoneInfo) -> Moment:
    middle = period.midpoint
    return Moment(
        local=middle.astimezone(tz),
        energy_kwh=period.energy_at_mid_wh / UNIT[Dimension.ENERGY],
        duration_s=seconds(middle - session_start),
        power_kw=period.power_kw,
    )


def _active(tariff: Tariff, moment: Moment, dimension: Dimension) -> tuple[int, PriceComponent]:
    for index, element in enumerate(tariff.elements):
        component = element.component(dimension)
        if component is not None and matches(element.restrictions, moment):
            return index, component
    return -1, PriceComponent(dimension, ZERO)


def _raw_lines(
    tariff: Tariff, periods: list[Period], start: datetime, tz: ZoneInfo
) -> Iterator[_Raw]:
    for period in periods:
        moment = _moment(period, start, tz)
        wanted = [Dimension.TIME if period.charging else Dimension.PARKING_TIME]
        if period.energy_wh > 0:
            wanted.insert(0, Dimension.ENERGY)
        for dimension in wanted:
            index, component = _active(tariff, moment, dimension)
            if index >= 0:
                base = period.energy_wh if dimension == Dimension.ENERGY else period.seconds
                yield _Raw(dimension, index, component, period.start, period.end, base)


def _merged(lines: Iterator[_Raw]) -> list[_Raw]:
    """Adjacent lines of the same dimension and element become one."""
    merged: list[list[Any]] = []  # [first line, end, base]
    last: dict[Dimension, list[Any]] = {}
    for line in lines:
        open_line = last.get(line.dimension)
        if open_line is not None:
            first, end = open_line[0], open_line[1]
            if (first.element, first.component, end) == (line.element, line.component, line.start):
                open_line[1] = line.end
                open_line[2] += line.base
                continue
        open_line = [line, line.end, line.base]
        last[line.dimension] = open_line
        merged.append(open_line)
    return [replace(first, end=end, base=base) for first, end, base in merged]


def _stepped(lines: list[_Raw]) -> list[_Raw]:
    """Round each dimension's total up to the step size of its last line (OCPI step_size)."""
    result = list(lines)
    for dimension in (Dimension.ENERGY, Dimension.TIME, Dimension.PARKING_TIME):
        indexes = [i for i, line in enumerate(result) if line.dimension == dimension]
        if not indexes:
            continue
        last = result[indexes[-1]]
        step = Decimal(last.component.step_size)
        if step <= 0:
            continue
        total = sum((result[i].base for i in indexes), ZERO)
        billed = (total / step).to_integral_value(rounding=ROUND_CEILING) * step
        result[indexes[-1]] = replace(last, base=last.base + (billed - total))
    return result


def _flat(
    tariff: Tariff, periods: list[Period], timeline: list[UsagePoint], tz: ZoneInfo
) -> _Raw | None:
    if not any(e.component(Dimension.FLAT) for e in tariff.elements):
        return None
    start, end = timeline[0].at, timeline[-1].at
    moments: Iterable[Moment] = (_moment(p, start, tz) for p in periods)
    if not periods:
        moments = [Moment(start.astimezone(tz), ZERO, ZERO, ZERO)]
    for moment in moments:
        index, component = _active(tariff, moment, Dimension.FLAT)
        if index >= 0:
            return _Raw(Dimension.FLAT, index, component, start, end, Decimal(1))
    return None


def _priced(tariff: Tariff, raw: _Raw) -> CostLine:
    quantity = raw.base / UNIT[raw.dimension] if raw.dimension in UNIT else raw.base
    vat = raw.component.vat_percent if raw.component.vat_percent is not None else tariff.vat_percent
    amount = quantity * raw.component.price
    return CostLine(
        raw.dimension,
        raw.start,
        raw.end,
        quantity,
        raw.component.price,
        amount,
        vat,
        amount * vat / HUNDRED,
    )


def price(tariff: Tariff, timeline: list[UsagePoint], tz: ZoneInfo) -> CostBreakdown:
    """What the session described by `timeline` costs under `tariff`, in time zone `tz`."""
    periods = split(tariff, timeline, tz)
    raw = _stepped(_merged(_raw_lines(tariff, periods, timeline[0].at, tz)))
    flat = _flat(tariff, periods, timeline, tz)
    lines = tuple(_priced(tariff, line) for line in ([flat] if flat else []) + raw)
    excl = sum((line.amount_excl_vat for line in lines), ZERO)
    vat = sum((line.amount_vat for line in lines), ZERO)
    total_excl = round_total(excl, tariff.currency)
    total_incl = round_total(excl + vat, tariff.currency)
    return CostBreakdown(
        tariff.currency,
        tariff.id,
        tariff.version,
        lines,
        total_excl,
        total_incl - total_excl,
        total_incl,
    )


def free(currency: str = "") -> CostBreakdown:
    """The breakdown of a session no tariff applies to."""
    return CostBreakdown(currency, "", 0, (), ZERO, ZERO, ZERO)
