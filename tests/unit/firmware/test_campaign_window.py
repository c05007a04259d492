"""Campaign windows: "HH:MM"-"HH:MM", empty = always, across midnight, and read in the
station's time zone (UTC when it has none)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargegrid.firmware.windows import in_local_window, in_window, zone


def at(hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(2026, 11, 2, hours, minutes, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start", "end", "inside"),
    [
        ("12:00", "", "", True),
        ("01:59", "02:00", "05:00", False),
        ("02:00", "02:00", "05:00", True),
        ("05:00", "02:00", "05:00", False),
        ("23:30", "22:00", "04:00", True),
        ("03:59", "22:00", "04:00", True),
        ("12:00", "22:00", "04:00", False),
    ],
)
def test_window(now: str, start: str, end: str, inside: bool) -> None:
    assert in_window(at(now), start, end) is inside


@pytest.mark.parametrize(
    ("utc", "timezone", "inside"),
    [
        ("18:00", "Asia/Tokyo", True),  # 03:00 in Tokyo
        ("18:00", "Europe/Berlin", False),  # 19:00 in Berlin
        ("01:30", "Europe/Berlin", True),  # 02:30 in Berlin (CET in November)
        ("01:30", "Asia/Tokyo", False),  # 10:30 in Tokyo
        ("02:30", None, True),  # no zone: UTC
        ("01:30", "Not/AZone", False),  # an unknown zone is read as UTC
    ],
)
def test_the_window_is_read_on_the_stations_wall_clock(
    utc: str, timezone: str | None, inside: bool
) -> None:
    assert in_local_window(at(utc), timezone, "02:00", "04:00") is inside


def test_zones_fall_back_to_utc() -> None:
    assert zone(None) is UTC
    assert zone("") is UTC
    assert zone("../etc/passwd") is UTC
    assert str(zone("Europe/Berlin")) == "Europe/Berlin"
