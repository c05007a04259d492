"""Time arithmetic: 15-minute UTC windows and the site-local labels longer buckets group by.

Every figure is stored per 15-minute window aligned in UTC (every time zone's offset is a
multiple of 15 minutes, so these windows tile local hours, days and months too). A window
also carries its local hour, day and month labels in its site's time zone, computed once at
ingest, so a day is whatever the local clock calls that day: 23 or 25 hours across DST.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WINDOW = timedelta(minutes=15)
WINDOW_S = WINDOW.total_seconds()


def window_start(at: datetime) -> datetime:
    """The start of the 15-minute UTC window holding `at`."""
    utc = at.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def windows_between(start: datetime, end: datetime) -> Iterator[tuple[datetime, float]]:
    """(window start, seconds of [start, end) inside it), for each window the span touches."""
    current = window_start(start)
    while current < end:
        following = current + WINDOW
        overlap = (min(end, following) - max(start, current)).total_seconds()
        if overlap > 0:
            yield current, overlap
        current = following


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The zone `name`; UTC when empty or unknown (an unknown zone must not stop ingest)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class LocalLabels:
    quarter: str
    hour: str
    day: str
    month: str
    #: UTC instants the local hour and the local day begin at.
    hour_start: datetime
    day_start: datetime


@lru_cache(maxsize=16_384)  # every change of a batch asks again; ~8 MB when full
def local_labels(start: datetime, timezone: str) -> LocalLabels:
    """The window's labels on its site's clock; 15M and HOUR keep the offset so the hour
    repeated when DST ends stays two buckets."""
    site_zone = zone(timezone)
    local = start.astimezone(site_zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=site_zone)
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    return LocalLabels(
        quarter=local.strftime("%Y-%m-%dT%H:%M") + offset,
        hour=local.strftime("%Y-%m-%dT%H:00") + offset,
        day=local.strftime("%Y-%m-%d"),
        month=local.strftime("%Y-%m"),
        # Offsets are whole quarter hours, so the local hour began `minute` minutes ago.
        hour_start=start.astimezone(UTC) - timedelta(minutes=local.minute),
        day_start=midnight.astimezone(UTC),
    )
