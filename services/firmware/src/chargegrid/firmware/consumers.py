"""The firmware service's Kafka entrypoint: station.events.v1 in consumer group "firmware".

Boots and firmware statuses drive station updates, log statuses drive log files, and every
security event is stored (critical ones logged at warning as alerts). Each event is claimed
by id in the same transaction as its changes, so a re-delivered event changes nothing.
Every other station event (heartbeats, statuses, connections) is skipped by its
`event-type` header before it is decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.firmware.models import LogFileRow, SecurityEventRow, StationUpdateRow
from chargegrid.firmware.status import TERMINAL, Progress, State, on_boot, on_firmware_status
from chargegrid.platform.bus import ConsumerConfig, EventConsumer, EventProducer, claim_event
from chargegrid.platform.bus.envelope import occurred_at, unpack
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.platform.logging import get_logger

CONSUMER_NAME = "firmware.events"
BOOTED = "station.booted"
FIRMWARE_STATUS = "station.firmware_status"
LOG_STATUS = "station.log_status"
SECURITY_EVENT = "station.security_event"
HANDLED = frozenset({BOOTED, FIRMWARE_STATUS, LOG_STATUS, SECURITY_EVENT})
#: Statuses a station may send before its upload arrived; they never undo "Uploaded".
BEFORE_UPLOAD = frozenset({"Idle", "Uploading", "Requested"})
#: Only a sent update listens to its station (a queued one has not been sent yet).
OPEN_STATES = [State.IN_PROGRESS.value]

log = get_logger(__name__)


class FirmwareEvents:
    """The handler the EventConsumer calls for every station event."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        critical_security_events: Iterable[str],
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.critical = frozenset(critical_security_events)

    async def __call__(self, envelope: Envelope, _record: ConsumerRecord | None = None) -> None:
        if not envelope.station_id or envelope.type not in HANDLED:
            return
        now = self.clock()
        at = min(occurred_at(envelope), now) if envelope.HasField("occurred_at") else now
        async with self.sessions() as session, session.begin():
            if not await claim_event(session, CONSUMER_NAME, envelope.event_id, now):
                return
            if envelope.type == FIRMWARE_STATUS:
                status = unpack(envelope, ev.FirmwareStatusChanged)
                await self._firmware_status(session, envelope.station_id, status, now)
            elif envelope.type == BOOTED:
                booted = unpack(envelope, ev.StationBooted)
                await self._booted(session, envelope.station_id, booted, now)
            elif envelope.type == LOG_STATUS:
                log_status = unpack(envelope, ev.LogStatusChanged)
                await self._log_status(session, envelope.station_id, log_status)
            else:
                security = unpack(envelope, ev.SecurityEventReceived)
                self._security_event(session, envelope, security, at)

    async def _open_update(
        self, session: AsyncSession, station_id: str, request_id: int = 0
    ) -> StationUpdateRow | None:
        query = (
            select(StationUpdateRow)
            .where(StationUpdateRow.station_id == station_id)
            .where(StationUpdateRow.state.in_(OPEN_STATES))
            .order_by(StationUpdateRow.created_at.desc(), StationUpdateRow.id.desc())
            .limit(1)
        )
        if request_id:
            query = query.where(StationUpdateRow.request_id == request_id)
        return (await session.scalars(query)).first()

    async def _firmware_status(
        self,
        session: AsyncSession,
        station_id: str,
        event: ev.FirmwareStatusChanged,
        now: datetime,
    ) -> None:
        row = await self._open_update(session, station_id, event.request_id)
        if row is None:
            return
        before = Progress(State(row.state), row.detail, row.booted_version)
        after = on_firmware_status(before, event.status, row.expected_version)
        self._store(row, before, after, now)

    async def _booted(
        self, session: AsyncSession, station_id: str, event: ev.StationBooted, now: datetime
    ) -> None:
        row = await self._open_update(session, station_id)
        if row is None:
            return
        before = Progress(State(row.state), row.detail, row.booted_version)
        after = on_boot(before, event.firmware_version, row.expected_version)
        self._store(row, before, after, now)

    @staticmethod
    def _store(row: StationUpdateRow, before: Progress, after: Progress, now: datetime) -> None:
        if after == before:
            return
        row.state, row.detail, row.booted_version = (
            after.state.value,
            after.detail,
            after.booted_version,
        )
        row.updated_at = now
        if after.state in TERMINAL:
            log.info(
                "firmware update finished",
                station_id=row.station_id,
                request_id=row.request_id,
                state=row.state,
                detail=row.detail,
            )

    async def _log_status(
        self, session: AsyncSession, station_id: str, event: ev.LogStatusChanged
    ) -> None:
        query = (
            select(LogFileRow)
            .where(LogFileRow.station_id == station_id)
            .order_by(LogFileRow.requested_at.desc(), LogFileRow.id.desc())
            .limit(1)
        )
        if event.request_id:
            query = query.where(LogFileRow.request_id == event.request_id)
        row = (await session.scalars(query)).first()
        if row is None or not event.status:
            return
        if row.uploaded_at is not None and event.status in BEFORE_UPLOAD:
            return
        row.status = event.status

    def _security_event(
        self,
        session: AsyncSession,
        envelope: Envelope,
        event: ev.SecurityEventReceived,
        at: datetime,
    ) -> None:
        critical = event.type in self.critical
        session.add(
            SecurityEventRow(
                event_id=envelope.event_id,
                station_id=envelope.station_id,
                type=event.type,
                tech_info=event.tech_info,
                critical=critical,
                occurred_at=at,
            )
        )
        if critical:
            log.warning(
                "security alert",
                station_id=envelope.station_id,
                type=event.type,
                tech_info=event.tech_info,
            )


def firmware_consumer(
    bootstrap_servers: str,
    handler: FirmwareEvents,
    producer: EventProducer,
    group: str = "firmware",
    **overrides: object,
) -> EventConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=[STATION_EVENTS],
        event_types=HANDLED,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return EventConsumer(config, handler, producer)
