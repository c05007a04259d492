"""Which session events a change is worth: opened once, closed once, updated at a bounded rate.

Updates are rate limited per session on the processing clock (not the station's), so a
station replaying an hour of queued meter values yields one update, not hundreds; the
closed event carries the final figures anyway. Nothing is emitted after closed: late data
completes the stored session (GetSession shows it) without a second closed event.
"""

from __future__ import annotations

from datetime import datetime

from chargegrid.session.domain.model import SessionState

OPENED = "opened"
UPDATED = "updated"
CLOSED = "closed"


def emissions(
    state: SessionState, now: datetime, update_interval_s: float, *, urgent: bool = False
) -> list[str]:
    """The kinds to emit for `state` as it is now, in order; `urgent` (the token became
    known) skips the rate limit, since authorization counts a card's sessions by it."""
    if state.closed_emitted:
        return []
    kinds = [] if state.opened_emitted else [OPENED]
    if not state.is_active:
        kinds.append(CLOSED)
    elif not kinds and (
        urgent
        or state.last_emitted_at is None
        or (now - state.last_emitted_at).total_seconds() >= update_interval_s
    ):
        kinds.append(UPDATED)
    return kinds


def mark_emitted(state: SessionState, kinds: list[str], now: datetime) -> None:
    if not kinds:
        return
    state.opened_emitted = state.opened_emitted or OPENED in kinds
    state.closed_emitted = state.closed_emitted or CLOSED in kinds
    state.last_emitted_at = now
