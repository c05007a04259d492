"""What each station event does to the registry: one small function per event type.

Handlers run inside the consumer's transaction, after the event id was claimed (for
order-dependent events, `coalesce.STATEFUL`), on a station row that exists (events about an
unknown station register it as the unknown-station policy says). Connector statuses are
collected in `EventContext.signs` and written for the whole batch at its end. Work that
must not hold the transaction, such as talking to the station, is listed in
`EventContext.reconcile` and started once the transaction committed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.stations.coalesce import LiveSigns
from chargegrid.stations.models import StationRow
from chargegrid.stations.reports import parse_notify_report
from chargegrid.stations.security import adopt_upgraded_profile
from chargegrid.stations.store import presence, reservations
from chargegrid.stations.store.alerts import parse_notify_event, store_alerts
from chargegrid.stations.store.configuration import store_reported
from chargegrid.stations.store.station_reports import KEPT, keep_part
from chargegrid.stations.store.status import StatusReport

ACCEPTED = "Accepted"


@dataclass
class EventContext:
    session: AsyncSession
    station: StationRow
    at: datetime
    #: Connector statuses, written for the whole batch at its end (latest per connector).
    signs: LiveSigns = field(default_factory=LiveSigns)
    #: Station ids whose configuration should be reconciled after commit.
    reconcile: list[str] = field(default_factory=list)


async def connected(ctx: EventContext, event: ev.StationConnected) -> None:
    presence.mark_connected(
        ctx.station, event.gateway_pod, event.ocpp_version, event.security_profile, ctx.at
    )
    adopt_upgraded_profile(ctx.station, event.security_profile)


async def disconnected(ctx: EventContext, event: ev.StationDisconnected) -> None:
    presence.mark_disconnected(ctx.station, event.gateway_pod, event.close_code)


async def booted(ctx: EventContext, event: ev.StationBooted) -> None:
    presence.mark_seen(ctx.station, ctx.at)
    presence.apply_boot(
        ctx.station,
        presence.BootInfo(
            vendor=event.vendor,
            model=event.model,
            serial_number=event.serial_number,
            firmware_version=event.firmware_version,
            reason=event.reason,
            ocpp_version=event.ocpp_version,
            at=ctx.at,
        ),
    )
    if event.registration_status == ACCEPTED:
        ctx.reconcile.append(ctx.station.id)


async def status_changed(ctx: EventContext, event: ev.StatusChanged) -> None:
    presence.mark_seen(ctx.station, ctx.at)
    report = StatusReport(
        event.evse_id, event.connector_id, event.status, event.error_code, event.info, ctx.at
    )
    ctx.signs.status(ctx.station.id, report)


async def report_received(ctx: EventContext, event: ev.ReportReceived) -> None:
    presence.mark_seen(ctx.station, ctx.at)
    if event.action == "NotifyReport":
        reported = parse_notify_report(event.payload_json)
        await store_reported(ctx.session, ctx.station.id, reported, ctx.at)
    elif event.action in KEPT:
        await keep_part(ctx.session, ctx.station.id, event.action, event.payload_json, ctx.at)


async def notification(ctx: EventContext, event: ev.NotificationReceived) -> None:
    """Kept 2.x notifications the registry owns: reservation updates and NotifyEvent."""
    presence.mark_seen(ctx.station, ctx.at)
    if event.action == "NotifyEvent":
        await store_alerts(ctx.session, parse_notify_event(ctx.station.id, event.payload_json))
    elif event.action in KEPT:
        await keep_part(ctx.session, ctx.station.id, event.action, event.payload_json, ctx.at)
    elif event.action == "ReservationStatusUpdate":
        payload = json.loads(event.payload_json or "{}")
        await reservations.station_update(
            ctx.session, ctx.station.id, int(payload.get("reservationId", 0)),
            str(payload.get("reservationUpdateStatus", "")), ctx.at,
        )  # fmt: skip


async def reservation_used(ctx: EventContext, event: ev.ReservationUsed) -> None:
    """H03: the station started a transaction on one of our reservations."""
    presence.mark_seen(ctx.station, ctx.at)
    await reservations.mark_used(
        ctx.session, ctx.station.id, event.reservation_id, event.transaction_id, ctx.at
    )


async def seen(ctx: EventContext, _event: Message | None) -> None:
    presence.mark_seen(ctx.station, ctx.at)


Handler = Callable[[EventContext, Any], Awaitable[None]]

#: Envelope type -> (payload type, handler). Types not listed only count as a sign of life.
EVENT_HANDLERS: dict[str, tuple[type[Message], Handler]] = {
    "station.connected": (ev.StationConnected, connected),
    "station.disconnected": (ev.StationDisconnected, disconnected),
    "station.booted": (ev.StationBooted, booted),
    "station.heartbeat": (ev.HeartbeatReceived, seen),
    "station.status_changed": (ev.StatusChanged, status_changed),
    "station.report": (ev.ReportReceived, report_received),
    "station.notification": (ev.NotificationReceived, notification),
    "station.reservation_used": (ev.ReservationUsed, reservation_used),
}
#: Events that never create a station nor count as life.
NOT_LIFE = frozenset({"station.disconnected", "station.protocol_violation"})
