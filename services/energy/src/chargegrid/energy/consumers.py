"""The energy service's Kafka entrypoint: one batch consumer in group "energy".

It reads transaction.events.v1, session.events.v1 and station.events.v1; event types it
does not use (heartbeats, firmware, reports, ...) are skipped by their header before they
are decoded.
"""

from __future__ import annotations

from chargegrid.energy.handlers import EVENT_TYPES, EnergyEvents
from chargegrid.platform.bus import BatchConsumer, ConsumerConfig, EventProducer
from chargegrid.platform.bus.topics import SESSION_EVENTS, STATION_EVENTS, TRANSACTION_EVENTS


def energy_consumer(
    bootstrap_servers: str,
    handler: EnergyEvents,
    producer: EventProducer,
    group: str = "energy",
    **overrides: object,
) -> BatchConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=[TRANSACTION_EVENTS, SESSION_EVENTS, STATION_EVENTS],
        event_types=EVENT_TYPES,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return BatchConsumer(config, handler.batch, producer)
