"""The Kafka event bus: envelopes, topics, an acknowledged producer and a safe consumer.

Facts travel between services as protobuf events in one envelope, keyed by station id.
`EventProducer.publish` returns only once Kafka acknowledged the record (acks=all) and
raises `BusUnavailable` otherwise; `EventConsumer` commits after its handler succeeded,
retries with backoff and dead-letters what keeps failing; `BatchConsumer` does the same
for a partition's batch in one handler call; `idempotency` makes re-delivery harmless.
"""

from chargegrid.platform.bus.batch import BatchConsumer, BatchHandler, Delivered
from chargegrid.platform.bus.consumer import ConsumerConfig, EventConsumer, Handler
from chargegrid.platform.bus.envelope import (
    EnvelopeFactory,
    UndecodableEvent,
    decode,
    encode,
    occurred_at,
    unpack,
)
from chargegrid.platform.bus.idempotency import (
    InMemoryProcessedEvents,
    ProcessedEvents,
    SqlProcessedEvents,
    claim_event,
    claim_events,
    deduplicated,
)
from chargegrid.platform.bus.producer import BusUnavailable, Delivery, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import TopicSpec, default_topic_specs, dlq_topic, ensure_topics

__all__ = [
    "BatchConsumer",
    "BatchHandler",
    "BusUnavailable",
    "ConsumerConfig",
    "Delivered",
    "Delivery",
    "EnvelopeFactory",
    "EventConsumer",
    "EventProducer",
    "Handler",
    "InMemoryProcessedEvents",
    "ProcessedEvents",
    "ProducerConfig",
    "SqlProcessedEvents",
    "TopicSpec",
    "UndecodableEvent",
    "claim_event",
    "claim_events",
    "decode",
    "deduplicated",
    "default_topic_specs",
    "dlq_topic",
    "encode",
    "ensure_topics",
    "occurred_at",
    "unpack",
]
