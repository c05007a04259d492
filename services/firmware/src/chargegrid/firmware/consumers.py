"""The firmware service's Kafka entrypoint: station.events.v1 in consumer group "firmware".

Boots and firmware statuses drive station updates, log statuses drive log files, and every
security event is stored (critical ones logged at warning as alerts). A partition's batch is
one database transaction: its event ids claimed in one statement (a re-delivered event
changes nothing) and the stations with an update in progress read in one query, so a boot
storm of thousands of stations, almost none of them updating, costs a few statements per
batch rather than a transaction per boot. Every other station event (heartbeats, statuses,
connections) is skipped by its `event-type` header before it is decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime

from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.firmware.models import LogFileRow, SecurityEventRow, StationUpdateRow
from chargegrid.firmware.status import TERMINAL, Progress, State, on_boot, on_firmware_status
from chargegrid.platform.bus import (
    BatchConsumer,
    ConsumerConfig,
    Delivered,
    EventProducer,
    claim_events,
)
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
        """One event (tests, and a record the batch consumer retries alone)."""
        await self.apply([envelope])

    async def batch(self, items: Sequence[Delivered]) -> None:
        """A partition batch from the batch consumer, in offset order."""
        await self.apply([envelope for envelope, _ in items])

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        wanted = [e for e in envelopes if e.station_id and e.type in HANDLED]
        if not wanted:
            return
        now = self.clock()
        async with self.sessions() as session, session.begin():
            fresh = await claim_events(session, CONSUMER_NAME, [e.event_id for e in wanted], now)
            booted = {e.station_id for e in wanted if e.type == BOOTED}
            updating = await self._updating(session, booted) if booted else set()
            for envelope in wanted:
                if envelope.event_id not in fresh:
                    continue
                fresh.discard(envelope.event_id)  # twice in one batch: applied once
                if envelope.type == BOOTED and envelope.station_id not in updating:
                    continue  # no update listens to this station's boot
                await self._apply_one(session, envelope, now)

    async def _apply_one(self, session: AsyncSession, envelope: Envelope, now: datetime) -> None:
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
            at = min(occurred_at(envelope), now) if envelope.HasField("occurred_at") else now
            security = unpack(envelope, ev.SecurityEventReceived)
            self._security_event(session, envelope, security, at)

    @staticmethod
    async def _updating(session: AsyncSession, station_ids: Collection[str]) -> set[str]:
        """Which of `station_ids` have an update sent and not yet finished."""
        query = (
            select(StationUpdateRow.station_id)
            .where(StationUpdateRow.station_id.in_(station_ids))
            .where(StationUpdateRow.state.in_(OPEN_STATES))
        )
        return set((await session.scalars(query)).all())

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
) -> BatchConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=[STATION_EVENTS],
        event_types=HANDLED,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return BatchConsumer(config, handler.batch, producer)
