"""The Kafka entrypoint of the flows: session.events.v1 and billing.events.v1, one group."""

from __future__ import annotations

from chargegrid.platform.bus import BatchConsumer, ConsumerConfig, EventProducer
from chargegrid.platform.bus.topics import BILLING_EVENTS, SESSION_EVENTS
from chargegrid.roaming.flows.pushes import EVENT_TYPES, Flows


def flows_consumer(
    bootstrap_servers: str,
    flows: Flows,
    producer: EventProducer,
    group: str = "roaming-flows",
    **overrides: object,
) -> BatchConsumer:
    """Only the event types the flows need are decoded; `overrides` set ConsumerConfig fields."""
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=[SESSION_EVENTS, BILLING_EVENTS],
        event_types=EVENT_TYPES,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return BatchConsumer(config, flows.batch, producer)
