"""Campaign windows: "HH:MM"-"HH:MM", empty = always, and windows across midnight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargegrid.firmware.campaigns import in_window


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
