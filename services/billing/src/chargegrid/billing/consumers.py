"""Billing's Kafka entrypoint: session.events.v1 in consumer group "billing"."""

from __future__ import annotations

from chargegrid.billing.handlers import SessionEvents
from chargegrid.platform.bus import ConsumerConfig, EventConsumer, EventProducer
from chargegrid.platform.bus.topics import SESSION_EVENTS


def session_consumer(
    bootstrap_servers: str,
    handler: SessionEvents,
    producer: EventProducer,
    group: str = "billing",
    **overrides: object,
) -> EventConsumer:
    """A consumer of session events; `overrides` set ConsumerConfig fields (tests, tuning)."""
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers, group_id=group, topics=[SESSION_EVENTS]
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return EventConsumer(config, handler, producer)
