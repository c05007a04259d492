"""Which tariff prices a session, and what the session costs under it.

The assignment in force when the session started picks the tariff (token group > station >
site > default), and the tariff's version in force at that moment prices it, so a tariff
updated mid-session does not change the session's price. No applicable tariff: the session
costs nothing (an empty breakdown), and its CDR still exists.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.billing.domain.engine import CostBreakdown, free, price
from chargegrid.billing.domain.tariffs import (
    SessionKeys,
    Tariff,
    applicable_assignment,
    version_in_force,
)
from chargegrid.billing.domain.timeline import UsagePoint
from chargegrid.billing.store import tariffs as tariff_store


async def tariff_for(
    session: AsyncSession, keys: SessionKeys, started_at: datetime
) -> Tariff | None:
    candidates = await tariff_store.assignments_for(
        session, keys.station_id, keys.site_id, keys.token_group
    )
    assignment = applicable_assignment(candidates, keys, started_at)
    if assignment is None:
        return None
    versions = await tariff_store.versions(session, assignment.tariff_id)
    return version_in_force(versions, started_at)


async def cost_of(
    session: AsyncSession, keys: SessionKeys, timeline: list[UsagePoint], timezone: str
) -> CostBreakdown:
    tariff = await tariff_for(session, keys, timeline[0].at)
    if tariff is None:
        return free()
    return price(tariff, timeline, ZoneInfo(timezone))
