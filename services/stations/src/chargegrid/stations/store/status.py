"""Live connector status, in one model for 1.6 and 2.x (the gateway already normalized it).

Connectors appear as stations report them. Events can arrive late (a station replays queued
notifications after a reconnect), so a status older than the stored one is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.stations.models import ConnectorRow
from chargegrid.stations.store.stations import new_connector


@dataclass(frozen=True)
class StatusReport:
    evse_id: int
    connector_id: int
    status: int
    error_code: str
    info: str
    at: datetime


async def apply_status(
    session: AsyncSession, station_id: str, report: StatusReport
) -> ConnectorRow | None:
    """The updated connector, or None when the report is stale or about the whole station."""
    if report.evse_id <= 0 or report.connector_id <= 0:
        return None  # 1.6 connector 0 is the charge point itself, not a connector
    key = (station_id, report.evse_id, report.connector_id)
    row = await session.get(ConnectorRow, key)
    if row is None:
        row = new_connector(*key)
        session.add(row)
    elif row.status_at is not None and report.at < row.status_at:
        return None
    row.status = report.status
    row.error_code = report.error_code
    row.info = report.info
    row.status_at = report.at
    await session.flush()
    return row
