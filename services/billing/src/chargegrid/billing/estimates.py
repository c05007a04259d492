"""The running cost of an active session, from billing's own database only.

The timeline is the stored updates continued to `now` at the last reported power (the
session service reports at a bounded rate, so the last update may be a little old). Step
sizes apply as if the session ended now, which is what a 2.0.1 station shows as totalCost.
A session already closed answers with its CDR's cost.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.billing.domain.engine import CostBreakdown
from chargegrid.billing.domain.tariffs import SessionKeys
from chargegrid.billing.domain.timeline import (
    Observation,
    build_timeline,
    extrapolate,
    seconds,
)
from chargegrid.billing.lookups import UTC_NAME
from chargegrid.billing.pricing import cost_of
from chargegrid.billing.store import cdrs
from chargegrid.billing.store import sessions as active
from chargegrid.platform.grpc.errors import NotFound


async def estimate(session: AsyncSession, session_id: str, now: datetime) -> CostBreakdown:
    running = await active.get_active(session, session_id)
    if running is None:
        closed = await cdrs.by_session(session, session_id)
        if closed is None:
            raise NotFound(f"no active or billed session {session_id!r}")
        return closed.cost
    points = await active.points(session, session_id)
    at = max(now, running.started_at)
    # Until its first update a session is taken to be charging (it just started).
    tail = extrapolate(points, now) or Observation(
        at, Decimal(0), int(seconds(at - running.started_at))
    )
    timeline = build_timeline(running.started_at, points, tail)
    keys = SessionKeys(running.station_id, running.site_id, running.token_group or "")
    return await cost_of(session, keys, timeline, running.timezone or UTC_NAME)
