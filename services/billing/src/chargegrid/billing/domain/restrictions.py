"""Whether a tariff element's restrictions hold at one moment of a session (OCPI 2.2.1).

Lower bounds are inclusive and upper bounds exclusive, as in OCPI: min_kwh, min_power_kw,
min_duration_s and start_time/start_date are "valid from", their max/end counterparts "valid
until". An end_time before the start_time wraps past midnight. Current restrictions cannot be
judged from session events (no current is reported to billing), so they are stored but not
evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chargegrid.billing.domain.tariffs import Restrictions


@dataclass(frozen=True)
class Moment:
    """The state of the session that restrictions look at."""

    local: datetime
    energy_kwh: Decimal
    duration_s: Decimal
    power_kw: Decimal


def _within(value: Decimal, low: Decimal | int | None, high: Decimal | int | None) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def _time_of_day_matches(r: Restrictions, moment: Moment) -> bool:
    now = moment.local.time().replace(tzinfo=None)
    start, end = r.start_time, r.end_time
    if start is not None and end is not None and end < start:
        return now >= start or now < end
    return (start is None or now >= start) and (end is None or now < end)


def matches(r: Restrictions, moment: Moment) -> bool:
    today = moment.local.date()
    return (
        _time_of_day_matches(r, moment)
        and (r.start_date is None or today >= r.start_date)
        and (r.end_date is None or today < r.end_date)
        and (not r.days_of_week or moment.local.isoweekday() in r.days_of_week)
        and _within(moment.energy_kwh, r.min_kwh, r.max_kwh)
        and _within(moment.power_kw, r.min_power_kw, r.max_power_kw)
        and _within(moment.duration_s, r.min_duration_s, r.max_duration_s)
    )
