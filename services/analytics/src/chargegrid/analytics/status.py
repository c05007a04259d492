"""EU AFIR 2023/1804 Art. 20 dynamic data: each EVSE's status and availability now.

Read from the same state changes as utilization (the latest facts of each port, resumed from
the facts cached at the last local midnight when they are exact), so what is published and
what is counted never disagree. Availability: AVAILABLE when free, OCCUPIED
when charging, occupied or reserved, OUT_OF_ORDER when faulted, unavailable or offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics import utilization_cache
from chargegrid.analytics.query import Scope
from chargegrid.analytics.utilization import scope_ports

AVAILABILITY = {
    "Available": "AVAILABLE",
    "Charging": "OCCUPIED",
    "Occupied": "OCCUPIED",
    "Reserved": "OCCUPIED",
    "Faulted": "OUT_OF_ORDER",
    "Unavailable": "OUT_OF_ORDER",
    "Offline": "OUT_OF_ORDER",
}


@dataclass(frozen=True, slots=True)
class EvseStatus:
    station_id: str
    evse_id: int
    site_id: str
    status: str
    availability: str
    since_ms: int


async def current_status(session: AsyncSession, scope: Scope, now: datetime) -> list[EvseStatus]:
    horizon = int(now.timestamp() * 1000) + 1
    try:
        found = await utilization_cache.resumed_ports(session, scope, horizon)
    except (utilization_cache.Stale, OperationalError):
        await session.rollback()
        found = await scope_ports(session, scope, horizon, with_no_energy=False)
    else:
        try:
            await session.commit()  # the refilled days
        except OperationalError:
            await session.rollback()
    return [
        EvseStatus(
            p.station_id,
            p.evse_id,
            p.site_id,
            p.status or "Unknown",
            AVAILABILITY.get(p.status, "UNKNOWN"),
            p.since_ms,
        )
        for p in found
    ]
