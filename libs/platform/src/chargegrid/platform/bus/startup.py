"""Connecting a service to Kafka at start: one producer from the service's settings, retried
with backoff until the cluster answers, and every topic of ARCHITECTURE.md made to exist.

Every service starts this way, so the Kafka settings (compression, linger, idempotence, SASL and
TLS) apply the same everywhere, including to the admin client that creates topics.
"""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError

from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.producer import BusUnavailable, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
from chargegrid.platform.logging import get_logger
from chargegrid.platform.settings import ServiceSettings

log = get_logger(__name__)


def producer_config(settings: ServiceSettings) -> ProducerConfig:
    kwargs = client_kwargs(settings)
    bootstrap = kwargs.pop("bootstrap_servers")
    return ProducerConfig(
        bootstrap_servers=bootstrap,
        idempotence=settings.kafka_idempotence,
        compression=settings.kafka_compression,
        publish_timeout_s=settings.kafka_publish_timeout_s,
        linger_ms=settings.kafka_linger_ms,
        extra=kwargs,
    )


async def ensure_service_topics(settings: ServiceSettings) -> list[str]:
    """Create the topics that are missing, with the service's partitions and replication."""
    kwargs = client_kwargs(settings)
    bootstrap = kwargs.pop("bootstrap_servers")
    specs = default_topic_specs(settings.kafka_topic_partitions, settings.kafka_replication_factor)
    return await ensure_topics(bootstrap, specs, **kwargs)


async def connect_producer(settings: ServiceSettings, max_delay_s: float = 10.0) -> EventProducer:
    """A started producer once Kafka answers (and the topics exist); retried until then, since
    a service that cannot publish or dead-letter must not report itself ready."""
    delay = 0.5
    while True:
        producer = EventProducer(producer_config(settings))
        try:
            await producer.start()
            await ensure_service_topics(settings)
            return producer
        except (BusUnavailable, KafkaError, OSError) as exc:
            await producer.stop()
            log.warning("Kafka not reachable yet", error=str(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
