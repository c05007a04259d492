"""The registry's Kafka entrypoint: station.events.v1 in consumer group "stations".

Each event is claimed by id in the same transaction as its changes, so a re-delivered event
changes nothing. Reconciles a boot asks for are started after commit, in the background: the
consumer never waits on a station.
"""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import ConsumerConfig, EventConsumer, EventProducer, claim_event
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
        if not envelope.station_id:
            return
        payload_type, handler = EVENT_HANDLERS.get(envelope.type, (None, seen))
        payload = unpack(envelope, payload_type) if payload_type is not None else None
        now = self.clock()
        at = min(occurred_at(envelope), now) if envelope.HasField("occurred_at") else now
        async with self.sessions() as session, session.begin():
            if not await claim_event(session, CONSUMER_NAME, envelope.event_id, now):
                return
            if envelope.type in NOT_LIFE:
                station = await find_station(session, envelope.station_id)
                if station is None:
                    return
            else:
                station = await ensure_station(
                    session, envelope.station_id, self.initial_status, now
                )
            context = EventContext(session, station, at)
            await handler(context, payload)
        for station_id in context.reconcile:
            self.on_accepted_boot(station_id)


def registry_consumer(
    bootstrap_servers: str,
    handler: RegistryEvents,
    producer: EventProducer,
    group: str = "stations",
    **overrides: object,
) -> EventConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers, group_id=group, topics=[STATION_EVENTS]
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return EventConsumer(config, handler, producer)
