"""The analytics service's Kafka entrypoint: transaction, session and billing events, group
"analytics".

One batch consumer over both topics; a batch is one partition's records, so one topic, and
goes to that topic's ingest (each applies its batch in one database transaction). A
malformed event fails its batch, which the platform splits down to that one event, retries
and dead-letters to `<topic>.dlq` while everything around it is counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from chargegrid.analytics import authorizations, energy, revenue, sessions, state_changes
from chargegrid.platform.bus import BatchConsumer, ConsumerConfig, Delivered, EventProducer
from chargegrid.platform.bus.batch import BatchHandler
from chargegrid.platform.bus.topics import (
    BILLING_EVENTS,
    SESSION_EVENTS,
    STATION_EVENTS,
    TRANSACTION_EVENTS,
)

TOPICS = [TRANSACTION_EVENTS, SESSION_EVENTS, BILLING_EVENTS, STATION_EVENTS]
EVENT_TYPES = (
    energy.HANDLED
    | revenue.HANDLED
    | sessions.HANDLED
    | authorizations.HANDLED
    | state_changes.STATION_HANDLED
)


class TopicRouter:
    """Hands each partition batch to the ingest of its topic."""

    def __init__(self, routes: dict[str, BatchHandler]) -> None:
        self.routes = routes

    async def __call__(self, batch: Sequence[Delivered]) -> None:
        if not batch:
            return
        handler = self.routes.get(batch[0][1].topic)
        if handler is not None:
            await handler(batch)


class FanOut:
    """Hands one batch to several ingests in turn (each its own transaction, each
    idempotent, so a retry after one of them failed adds nothing twice)."""

    def __init__(self, *handlers: BatchHandler) -> None:
        self.handlers = handlers

    async def __call__(self, batch: Sequence[Delivered]) -> None:
        for handler in self.handlers:
            await handler(batch)


def analytics_consumer(
    bootstrap_servers: str,
    router: TopicRouter,
    producer: EventProducer,
    group: str = "analytics",
    **overrides: object,
) -> BatchConsumer:
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=list(TOPICS),
        event_types=EVENT_TYPES,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return BatchConsumer(config, router, producer)
