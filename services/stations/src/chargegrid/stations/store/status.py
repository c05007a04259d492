"""Live connector status, in one model for 1.6 and 2.x (the gateway already normalized it).

Connectors appear as stations report them. Events can arrive late (a station replays queued
notifications after a reconnect), so a status older than the stored one is ignored, one at a
time (`apply_status`) or a batch's latest per connector in one statement (`record_statuses`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.stations.models import ConnectorRow
from chargegrid.stations.store.driver import DriverStatement
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


def _upsert(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, ConnectorRow.__table__)
    statement = insert(table).values({name: bindparam(name) for name in CONNECTOR_COLUMNS})
    newer = statement.excluded.status_at
    return statement.on_conflict_do_update(
        index_elements=[table.c.station_id, table.c.evse_id, table.c.connector_id],
        set_={
            "status": statement.excluded.status,
            "error_code": statement.excluded.error_code,
            "info": statement.excluded.info,
            "status_at": newer,
        },
        where=or_(table.c.status_at.is_(None), table.c.status_at <= newer),
    )


CONNECTOR_COLUMNS = (
    "station_id", "evse_id", "connector_id", "type", "max_power_w", "max_current_a",
    "status", "error_code", "info", "status_at",
)  # fmt: skip
STATUS_UPSERT = DriverStatement(_upsert)


async def record_statuses(
    session: AsyncSession, reports: Mapping[tuple[str, int, int], StatusReport]
) -> None:
    """Store the latest status of each connector in one statement (executemany), creating
    connectors as they are reported; a stored status newer than the report is kept."""
    rows = [
        {
            "station_id": station_id,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "type": "",
            "max_power_w": 0.0,
            "max_current_a": 0.0,
            "status": report.status,
            "error_code": report.error_code,
            "info": report.info,
            "status_at": report.at,
        }
        for (station_id, evse_id, connector_id), report in sorted(reports.items())
    ]
    await STATUS_UPSERT.executemany(session, rows)
