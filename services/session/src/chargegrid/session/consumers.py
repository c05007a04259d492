"""The Kafka entrypoint: one consumer group member for transaction and station events.

Both topics feed the same handler, a partition's batch at a time (one transaction each);
the station topic is read only for boots (a reboot ends what the station was charging),
and every other event type is skipped by its header before it is decoded. Disconnections
are not used: a station keeps charging offline and reports what happened when it is back.
"""

from __future__ import annotations

from chargegrid.platform.bus import BatchConsumer, ConsumerConfig, EventProducer
from chargegrid.platform.bus.topics import STATION_EVENTS, TRANSACTION_EVENTS
from chargegrid.session.handlers import EVENT_TYPES, SessionEvents


def session_consumer(
    bootstrap_servers: str,
    handler: SessionEvents,
    producer: EventProducer,
    group: str = "session",
    **overrides: object,
) -> BatchConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=[TRANSACTION_EVENTS, STATION_EVENTS],
        event_types=EVENT_TYPES,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return BatchConsumer(config, handler.batch, producer)
