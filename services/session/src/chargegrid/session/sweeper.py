"""The timer that puts outlet marks in force: sessions on outlets reported free are closed
once the grace for their Ended is over (handlers.SessionEvents.sweep)."""

from __future__ import annotations

import asyncio

from chargegrid.platform.logging import get_logger
from chargegrid.session.handlers import SWEEP_BATCH, SessionEvents

log = get_logger(__name__)


async def run_sweeper(events: SessionEvents, grace_s: float) -> None:
    """Sweep every third of the grace (0.5 to 5 s); at once again while a batch was full."""
    interval_s = min(max(grace_s / 3, 0.5), 5.0)
    while True:
        try:
            swept = await events.sweep(grace_s)
        except Exception as exc:  # the database away: try again next round
            log.warning("outlet sweep failed", error=repr(exc))
            swept = 0
        if swept < SWEEP_BATCH:
            await asyncio.sleep(interval_s)
