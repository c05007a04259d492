"""The buckets of a query on one site's clock: their UTC bounds and local labels.

Utilization is cut into buckets at query time, so the bounds are computed here rather than
stored: 15-minute UTC windows, and the local hours, days and months of the site's zone (a
DST day is 23 or 25 hours long; the repeated hour keeps its offset in its label, as energy
labels it). A bucket belongs to the query when it begins inside [start, end).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from chargegrid.analytics.query import Grain
from chargegrid.analytics.windows import WINDOW, local_labels, window_start, zone


def _midnight(day: date, timezone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone(timezone)).astimezone(UTC)


def _starts(start: datetime, end: datetime, grain: Grain, timezone: str) -> Iterator[datetime]:
    """Bucket starts inside [start, end), then the first start at or after `end`."""
    if grain in (Grain.QUARTER, Grain.HOUR):
        current = window_start(start)
        if current < start:
            current += WINDOW
        site_zone = zone(timezone)
        while True:
            if grain is Grain.QUARTER or current.astimezone(site_zone).minute == 0:
                yield current
                if current >= end:
                    return
            current += WINDOW
    local = start.astimezone(zone(timezone)).date()
    day = local if grain is Grain.DAY else local.replace(day=1)
    while True:
        at = _midnight(day, timezone)
        if at >= start:
            yield at
            if at >= end:
                return
        if grain is Grain.DAY:
            day += timedelta(days=1)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def label_of(at: datetime, grain: Grain, timezone: str) -> str:
    labels = local_labels(at, timezone)
    return {
        Grain.QUARTER: labels.quarter,
        Grain.HOUR: labels.hour,
        Grain.DAY: labels.day,
        Grain.MONTH: labels.month,
    }[grain]


def buckets(
    start: datetime, end: datetime, grain: Grain, timezone: str
) -> list[tuple[str, int, int]]:
    """(local label, start ms, end ms) of each bucket that begins in [start, end)."""
    starts = list(_starts(start, end, grain, timezone))
    return [
        (label_of(a, grain, timezone), int(a.timestamp()) * 1000, int(b.timestamp()) * 1000)
        for a, b in pairwise(starts)
    ]
