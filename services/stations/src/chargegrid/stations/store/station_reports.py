"""Parts of the asynchronous 2.x reports the registry keeps whole: NotifyDisplayMessages
(after GetDisplayMessages) and NotifyMonitoringReport (after GetMonitoringReport).

A part is keyed by (station, action, requestId, seqNo): a part sent again replaces itself,
so a re-delivered or resent report never doubles. Malformed parts are skipped.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.stations.models import StationReportRow

KEPT = frozenset({"NotifyDisplayMessages", "NotifyMonitoringReport"})


async def keep_part(
    session: AsyncSession, station_id: str, action: str, payload_json: str, at: datetime
) -> bool:
    try:
        payload = json.loads(payload_json or "{}")
        request_id, seq_no = int(payload["requestId"]), int(payload.get("seqNo", 0))
    except (ValueError, KeyError, TypeError):
        return False
    row = await session.get(StationReportRow, (station_id, action, request_id, seq_no))
    if row is None:
        row = StationReportRow(
            station_id=station_id, action=action, request_id=request_id, seq_no=seq_no
        )
        session.add(row)
    row.tbc, row.payload_json, row.received_at = bool(payload.get("tbc")), payload_json, at
    return True


async def report_parts(
    session: AsyncSession, station_id: str, action: str, request_id: int
) -> list[StationReportRow]:
    query = (
        select(StationReportRow)
        .where(
            StationReportRow.station_id == station_id,
            StationReportRow.action == action,
            StationReportRow.request_id == request_id,
        )
        .order_by(StationReportRow.seq_no)
    )
    return list((await session.scalars(query)).all())
