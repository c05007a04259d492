"""Time as the simulator sees it: an injectable clock and OCPP timestamp formatting.

Every timestamp a station sends and every energy integration step reads the clock it was
given, so tests can pin or advance time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time as a timezone-aware UTC datetime."""


def utc_now() -> datetime:
    """The wall clock, used when nothing else is injected."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """OCPP's timestamp form: UTC, millisecond precision, `Z` suffix."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Read an OCPP timestamp (with `Z` or an offset; naive values are taken as UTC)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
