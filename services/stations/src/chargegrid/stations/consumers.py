"""The registry's Kafka entrypoint: station.events.v1 in consumer group "stations".

A partition's batch is applied in one transaction: its event ids claimed in one statement,
each event then handled in order on the station rows, which the session keeps loaded, so a
station's heartbeats, status notifications and last-seen times within a batch end up as one
UPDATE of its row. A re-delivered event finds its id claimed and changes nothing. Reconciles
a boot asks for are started after commit, in the background: the consumer never waits on a
station.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import (
    BatchConsumer,
    ConsumerConfig,
    Delivered,
    EventProducer,
    claim_events,
)
from chargegrid.platform.bus.envelope import occurred_at, unpack
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.stations.clock import Clock
from chargegrid.stations.handlers import EVENT_HANDLERS, NOT_LIFE, EventContext, seen
from chargegrid.stations.store.presence import ensure_station
from chargegrid.stations.store.stations import find_station

CONSUMER_NAME = "stations.registry"


class RegistryEvents:
    """The handler the EventConsumer calls for every station event."""

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
        """Handle events in order, in one transaction."""
        envelopes = [envelope for envelope in envelopes if envelope.station_id]
        if not envelopes:
            return
        now = self.clock()
        reconcile: list[str] = []
        async with self.sessions() as session, session.begin():
            fresh = await claim_events(session, CONSUMER_NAME, [e.event_id for e in envelopes], now)
            for envelope in envelopes:
                if envelope.event_id in fresh:
                    fresh.discard(envelope.event_id)  # twice in one batch: handled once
                    reconcile += await self._handle(session, envelope, now)
        for station_id in reconcile:
            self.on_accepted_boot(station_id)

    async def _handle(self, session: AsyncSession, envelope: Envelope, now: datetime) -> list[str]:
        payload_type, handler = EVENT_HANDLERS.get(envelope.type, (None, seen))
        payload = unpack(envelope, payload_type) if payload_type is not None else None
        at = min(occurred_at(envelope), now) if envelope.HasField("occurred_at") else now
        if envelope.type in NOT_LIFE:
            station = await find_station(session, envelope.station_id)
            if station is None:
                return []
        else:
            station = await ensure_station(session, envelope.station_id, self.initial_status, now)
        context = EventContext(session, station, at)
        await handler(context, payload)
        return context.reconcile


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
