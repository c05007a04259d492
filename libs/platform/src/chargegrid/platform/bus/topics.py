"""Topic names, their specifications, and idempotent provisioning.

Topics are created explicitly at start (the embedded broker would otherwise auto-create
them with 4 partitions, and Kafka clusters usually forbid auto-creation). The presence topic
is compacted: only the newest owner of each station matters.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

OCPP_FRAMES = "ocpp.frames.v1"
STATION_EVENTS = "station.events.v1"
TRANSACTION_EVENTS = "transaction.events.v1"
SESSION_EVENTS = "session.events.v1"
BILLING_EVENTS = "billing.events.v1"
ENERGY_EVENTS = "energy.events.v1"
STATION_PRESENCE = "station.presence.v1"

EVENT_TOPICS = (
    OCPP_FRAMES,
    STATION_EVENTS,
    TRANSACTION_EVENTS,
    SESSION_EVENTS,
    BILLING_EVENTS,
    ENERGY_EVENTS,
)
COMPACTED_TOPICS = (STATION_PRESENCE,)

DLQ_SUFFIX = ".dlq"


def dlq_topic(topic: str) -> str:
    """Where messages of `topic` that keep failing go, with their error."""
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 8
    replication_factor: int = 1
    config: dict[str, str] = field(default_factory=dict)


def default_topic_specs(partitions: int = 8, replication_factor: int = 1) -> list[TopicSpec]:
    """Every topic of ARCHITECTURE.md and its dead-letter topic."""
    specs = [
        TopicSpec(name, partitions, replication_factor)
        for topic in EVENT_TOPICS
        for name in (topic, dlq_topic(topic))
    ]
    specs += [
        TopicSpec(name, partitions, replication_factor, {"cleanup.policy": "compact"})
        for name in COMPACTED_TOPICS
    ]
    return specs


async def ensure_topics(
    bootstrap_servers: str, specs: list[TopicSpec], **client_kwargs: object
) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kwargs)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        new_topics = [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=spec.replication_factor,
                topic_configs=dict(spec.config),
            )
            for spec in missing
        ]
        # Another process may create them between list and create: that is the goal anyway.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new_topics)
        return [spec.name for spec in missing]
    finally:
        await admin.close()
