"""Rebuild: take what was counted from a time on back out, and read the topics again.

Energy is a function of the set of distinct register readings, revenue of the set of
distinct CDRs, session statistics of the set of distinct sessions, so reading a topic again
can never double count: what is already stored changes nothing. A rebuild from `since`
therefore (1) removes every reading at or after `since`, subtracting what each contributed
(the chain is cut just before `since`), and every CDR and closed session started then;
(2) forgets the event ids claimed since a day before `since` (clock skew between stations
and ingest); (3) moves the service to a new consumer group, which reads every topic from its
start. Events from before `since` find their facts stored; the rest count again, exactly as
the live path counted them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics import energy, revenue, sessions
from chargegrid.analytics.energy import Rows
from chargegrid.analytics.models import (
    ClosedSessionRow,
    MeterReadingRow,
    RefusedAuthorizationRow,
    RevenueRow,
    ServiceStateRow,
)
from chargegrid.analytics.readings import Reading, energy_change
from chargegrid.analytics.sites import SiteLookup
from chargegrid.platform.bus.idempotency import processed_events

GENERATION = "consumer_group_generation"
CLOCK_SKEW = timedelta(days=1)
R = MeterReadingRow
Refused = RefusedAuthorizationRow


@dataclass(frozen=True, slots=True)
class Removed:
    readings: int
    cdrs: int


async def generation(session: AsyncSession) -> int:
    row = await session.get(ServiceStateRow, GENERATION)
    return int(row.value) if row is not None else 0


def group_name(base: str, generation_number: int) -> str:
    return base if generation_number == 0 else f"{base}.rebuild-{generation_number}"


async def next_generation(session: AsyncSession) -> int:
    number = await generation(session) + 1
    await session.merge(ServiceStateRow(key=GENERATION, value=str(number)))
    return number


async def _take_back_energy(session: AsyncSession, since: datetime, sites: SiteLookup) -> int:
    later = (await session.scalars(select(R).where(R.at >= since))).all()
    chains: dict[tuple[str, str], list[Reading]] = defaultdict(list)
    for row in later:
        reading = Reading(row.transaction_id, row.evse_id, row.at, row.rank, row.wh)
        chains[(row.station_id, row.transaction_id)].append(reading)
    rows = Rows()
    for (station_id, transaction_id), removed in chains.items():
        before = (
            await session.scalars(
                select(R)
                .where(R.station_id == station_id, R.transaction_id == transaction_id)
                .where(R.at < since)
                .order_by(R.at.desc(), R.rank.desc())
                .limit(1)
            )
        ).first()
        kept = (
            []
            if before is None
            else [Reading(before.transaction_id, before.evse_id, before.at, before.rank, before.wh)]
        )
        full = sorted([*kept, *removed], key=lambda r: r.order)
        rows.add(station_id, await sites(station_id), energy_change(full, kept))
    await rows.write(session)
    await session.execute(delete(R).where(R.at >= since))
    return len(later)


async def take_back(session: AsyncSession, since: datetime, sites: SiteLookup) -> Removed:
    """Step (1) and (2) in the caller's transaction."""
    readings = await _take_back_energy(session, since, sites)
    since_s = int(since.timestamp())
    cdrs = await session.scalar(
        select(func.count()).select_from(RevenueRow).where(RevenueRow.started_at >= since_s)
    )
    await session.execute(delete(RevenueRow).where(RevenueRow.started_at >= since_s))
    await session.execute(delete(ClosedSessionRow).where(ClosedSessionRow.started_at >= since_s))
    # Keyed by event id, so not double counted either way; removed so they take the site
    # their station has now, like the rest.
    await session.execute(delete(Refused).where(Refused.at >= since_s))
    await session.execute(
        delete(processed_events)
        .where(
            processed_events.c.consumer.in_(
                [energy.CONSUMER_NAME, revenue.CONSUMER_NAME, sessions.CONSUMER_NAME]
            )
        )
        .where(processed_events.c.processed_at >= since - CLOCK_SKEW)
    )
    return Removed(readings, int(cdrs or 0))
