"""Alerts: the events of 2.x NotifyEvent, kept per station for operators and the console.

An event is identified by (station, eventId, timestamp): a station that sends the same
NotifyEvent again (its reply was lost) adds nothing. Malformed event data are skipped, never
stored half. An alert is open until a later event about the same variable says `cleared`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chargegrid.stations.models import AlertRow
from chargegrid.stations.reports import component_name, variable_name
from chargegrid.stations.store.paging import Page


def _parse_time(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _alert(station_id: str, datum: dict[str, Any]) -> AlertRow | None:
    component = component_name(datum.get("component"))
    variable = variable_name(datum.get("variable"))
    try:
        at = _parse_time(str(datum["timestamp"]))
        event_id = int(datum["eventId"])
    except (KeyError, TypeError, ValueError):
        return None
    if not component or not variable:
        return None
    return AlertRow(
        station_id=station_id, event_id=event_id, occurred_at=at,
        trigger=str(datum.get("trigger", "")), variable=f"{component}/{variable}",
        actual_value=str(datum.get("actualValue", ""))[:2500],
        cleared=bool(datum.get("cleared", False)),
        tech_code=str(datum.get("techCode", ""))[:50],
        tech_info=str(datum.get("techInfo", ""))[:500], severity=-1,
        variable_monitoring_id=int(datum.get("variableMonitoringId", 0) or 0),
        event_notification_type=str(datum.get("eventNotificationType", "")),
        cause=int(datum.get("cause", 0) or 0),
    )  # fmt: skip


def parse_notify_event(station_id: str, payload_json: str) -> list[AlertRow]:
    try:
        payload = json.loads(payload_json or "{}")
    except ValueError:
        return []
    data = payload.get("eventData") if isinstance(payload, dict) else None
    rows = (
        [_alert(station_id, d) for d in data if isinstance(d, dict)]
        if isinstance(data, list)
        else []
    )
    return [row for row in rows if row is not None]


async def store_alerts(session: AsyncSession, rows: list[AlertRow]) -> int:
    """Adds the alerts not stored before; returns how many were new."""
    added = 0
    for row in rows:
        known = await session.scalar(
            select(AlertRow.id).where(
                AlertRow.station_id == row.station_id,
                AlertRow.event_id == row.event_id,
                AlertRow.occurred_at == row.occurred_at,
            )
        )
        if known is None:
            session.add(row)
            await session.flush()
            added += 1
    return added


async def list_alerts(
    session: AsyncSession, station_id: str, open_only: bool, page: Page
) -> list[AlertRow]:
    """Newest first, one row more than the page."""
    query = select(AlertRow).order_by(AlertRow.id.desc())
    if station_id:
        query = query.where(AlertRow.station_id == station_id)
    if open_only:
        later = aliased(AlertRow)
        cleared_later = exists().where(
            and_(
                later.station_id == AlertRow.station_id,
                later.variable == AlertRow.variable,
                later.cleared.is_(True),
                later.occurred_at >= AlertRow.occurred_at,
            )
        )
        query = query.where(AlertRow.cleared.is_(False), ~cleared_later)
    if page.after is not None:
        query = query.where(AlertRow.id < int(page.after))
    return list((await session.scalars(query.limit(page.size + 1))).all())
