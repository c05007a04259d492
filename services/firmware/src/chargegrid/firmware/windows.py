"""Maintenance windows, read in each station's own time zone.

A window such as 02:00-04:00 means the night where the station stands: a fleet spread over
time zones is updated in several waves, each at its local night. A station without a
known zone (no site, no zone, a name this host does not know) is read in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


@lru_cache(maxsize=512)
def zone(name: str | None) -> tzinfo:
    """The zone called `name`, else UTC."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone, using UTC", timezone=name)
        return UTC


def in_window(now: datetime, start: str, end: str) -> bool:
    """Whether `now` is inside the "HH:MM"-"HH:MM" window (empty = always; may wrap midnight)."""
    if not start or not end:
        return True
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    moment = now.time().replace(tzinfo=None)
    if begin <= finish:
        return begin <= moment < finish
    return moment >= begin or moment < finish


def in_local_window(now: datetime, timezone: str | None, start: str, end: str) -> bool:
    """Whether `now` (aware) is inside the window on the wall clock of `timezone`."""
    return in_window(now.astimezone(zone(timezone)), start, end)
