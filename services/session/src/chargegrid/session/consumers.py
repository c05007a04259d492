"""The Kafka entrypoint: one consumer group member for transaction and station events.

Both topics feed the same handler; the station topic is read only for boots (a reboot ends
what the station was charging). Disconnections are not used: a station keeps charging
offline and reports what happened when it is back.
"""

from __future__ import annotations

from chargegrid.platform.bus import ConsumerConfig, EventConsumer, EventProducer
from chargegrid.platform.bus.topics import STATION_EVENTS, TRANSACTION_EVENTS
from chargegrid.session.handlers import SessionEvents


def session_consumer(
    bootstrap_servers: str,
    handler: SessionEvents,
    producer: EventProducer,
    group: str = "session",
    **overrides: object,
) -> EventConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=[TRANSACTION_EVENTS, STATION_EVENTS],
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return EventConsumer(config, handler, producer)
