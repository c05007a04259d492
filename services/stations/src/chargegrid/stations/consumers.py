"""The registry's Kafka entrypoint: station.events.v1 in consumer group "stations".

A partition's batch is applied in one transaction. Stations whose events in the batch are
all mere signs of life (heartbeats, status notifications, ...) are folded (`coalesce`): one
bulk upsert of their latest times and one bulk upsert of their connectors' latest statuses,
with no event ids claimed, since both writes are idempotent. A station with an
order-dependent event in the batch (connect, disconnect, boot, report) has all its events
of the batch handled one by one in order on its row, loaded with the others in one query,
the order-dependent ones with their ids claimed in one statement; the session flushes the
rows once, at commit. A re-delivered event changes nothing. Reconciles an accepted boot asks
for are started after commit, in the background (the consumer never waits on a station), and
only for stations some desired configuration applies to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.platform.bus import (
    BatchConsumer,
    ConsumerConfig,
    Delivered,
    EventProducer,
    claim_events,
)
from chargegrid.platform.bus.envelope import occurred_at, unpack
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.platform.writer_gate import one_writer
from chargegrid.stations.clock import Clock
from chargegrid.stations.coalesce import STATEFUL, STATUS_CHANGED, LiveSigns
from chargegrid.stations.handlers import EVENT_HANDLERS, NOT_LIFE, EventContext, seen
from chargegrid.stations.models import StationRow
from chargegrid.stations.store.configuration import configured_scopes, scopes_of
from chargegrid.stations.store.liveness import record_seen, register_stations
from chargegrid.stations.store.status import StatusReport, record_statuses

CONSUMER_NAME = "stations.registry"


def _at(envelope: Envelope, now: datetime) -> datetime:
    """When it happened, never later than now (a station clock ahead is not trusted)."""
    return min(occurred_at(envelope), now) if envelope.HasField("occurred_at") else now


class RegistryEvents:
    """The handler the BatchConsumer calls with every partition batch of station events."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        initial_status: str,
        on_accepted_boot: Callable[[str], None],
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.initial_status = initial_status
        self.on_accepted_boot = on_accepted_boot

    async def __call__(self, envelope: Envelope, _record: ConsumerRecord | None = None) -> None:
        """One event (tests, and a record the batch consumer retries alone)."""
        await self.apply([envelope])

    async def batch(self, items: Sequence[Delivered]) -> None:
        await self.apply([envelope for envelope, _ in items])

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        """Apply a batch in one transaction, each station's events in order."""
        envelopes = [envelope for envelope in envelopes if envelope.station_id]
        if not envelopes:
            return
        now = self.clock()
        stateful = {e.station_id for e in envelopes if e.type in STATEFUL}
        signs = LiveSigns()
        in_order: list[Envelope] = []
        for envelope in envelopes:
            if envelope.station_id in stateful:
                in_order.append(envelope)
            else:
                self._fold(signs, envelope, now)
        reconcile: list[str] = []
        async with one_writer(self.sessions), self.sessions() as session, session.begin():
            if in_order:
                reconcile = await self._in_order(session, in_order, signs, now)
            await self._write(session, signs, now)
        for station_id in reconcile:
            self.on_accepted_boot(station_id)

    def _fold(self, signs: LiveSigns, envelope: Envelope, now: datetime) -> None:
        at = _at(envelope, now)
        signs.alive(envelope.station_id, at)
        if envelope.type == STATUS_CHANGED:
            status = unpack(envelope, ev.StatusChanged)
            signs.status(
                envelope.station_id,
                StatusReport(
                    status.evse_id, status.connector_id, status.status, status.error_code,
                    status.info, at,
                ),
            )  # fmt: skip

    async def _write(self, session: AsyncSession, signs: LiveSigns, now: datetime) -> None:
        await record_seen(session, signs.seen, self.initial_status, now)
        await record_statuses(session, signs.statuses)

    async def _in_order(
        self, session: AsyncSession, envelopes: list[Envelope], signs: LiveSigns, now: datetime
    ) -> list[str]:
        claimable = [e.event_id for e in envelopes if e.type in STATEFUL]
        fresh = await claim_events(session, CONSUMER_NAME, claimable, now)
        stations, existing = await self._load(session, envelopes, now)
        reconcile: list[str] = []
        with session.no_autoflush:  # the rows are written once, at commit
            for envelope in envelopes:
                if envelope.type in STATEFUL:
                    if envelope.event_id not in fresh:
                        continue  # claimed before (or twice in this batch): handled once
                    fresh.discard(envelope.event_id)
                station = stations.get(envelope.station_id)
                if envelope.type in NOT_LIFE:
                    if envelope.station_id not in existing or station is None:
                        continue  # never registers a station, nor counts as life
                else:
                    existing.add(envelope.station_id)
                assert station is not None  # loaded or registered by `_load`
                reconcile += await self._handle(session, station, envelope, signs, now)
        return await _configured(session, [stations[i] for i in dict.fromkeys(reconcile)])

    async def _load(
        self, session: AsyncSession, envelopes: list[Envelope], now: datetime
    ) -> tuple[dict[str, StationRow], set[str]]:
        """The batch's stations in one query, and which of them existed before it. Those an
        event will register are registered now, but stay invisible to the events before
        that one (`existing` in `_in_order`)."""
        wanted = {e.station_id for e in envelopes}
        query = select(StationRow).where(StationRow.id.in_(sorted(wanted)))
        stations = {row.id: row for row in (await session.scalars(query)).all()}
        existing = set(stations)
        living = {e.station_id for e in envelopes if e.type not in NOT_LIFE}
        missing = living - set(stations)
        if missing:
            await register_stations(session, missing, self.initial_status, now)
            query = select(StationRow).where(StationRow.id.in_(sorted(missing)))
            stations.update({row.id: row for row in (await session.scalars(query)).all()})
        return stations, existing

    async def _handle(
        self,
        session: AsyncSession,
        station: StationRow,
        envelope: Envelope,
        signs: LiveSigns,
        now: datetime,
    ) -> list[str]:
        payload_type, handler = EVENT_HANDLERS.get(envelope.type, (None, seen))
        payload = unpack(envelope, payload_type) if payload_type is not None else None
        context = EventContext(session, station, _at(envelope, now), signs)
        await handler(context, payload)
        return context.reconcile


async def _configured(session: AsyncSession, stations: list[StationRow]) -> list[str]:
    """The stations some desired configuration applies to: a reconcile of the others would
    only read that nothing is desired (four queries each, in a boot storm 20,000 times)."""
    if not stations:
        return []
    scopes = {station.id: scopes_of(station) for station in stations}
    present = await configured_scopes(session, [s for each in scopes.values() for s in each])
    return [i for i, each in scopes.items() if any(s in present for s in each)]


def registry_consumer(
    bootstrap_servers: str,
    handler: RegistryEvents,
    producer: EventProducer,
    group: str = "stations",
    **overrides: object,
) -> BatchConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers, group_id=group, topics=[STATION_EVENTS]
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return BatchConsumer(config, handler.batch, producer)
