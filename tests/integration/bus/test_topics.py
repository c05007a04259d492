"""Topic provisioning creates every topic of the architecture once, with its partitions."""

import uuid

from aiokafka.admin import AIOKafkaAdminClient

from chargegrid.platform.bus import TopicSpec, default_topic_specs, ensure_topics
from chargegrid.platform.bus.topics import STATION_PRESENCE, TRANSACTION_EVENTS


def test_the_default_topics_include_dead_letters_and_a_compacted_presence_topic() -> None:
    specs = {spec.name: spec for spec in default_topic_specs(partitions=6)}
    assert "transaction.events.v1.dlq" in specs
    assert specs[STATION_PRESENCE].config == {"cleanup.policy": "compact"}
    assert specs[TRANSACTION_EVENTS].partitions == 6


async def test_provisioning_is_idempotent_and_sets_the_partition_count(
    kafka_bootstrap: str,
) -> None:
    name = f"test.provision.{uuid.uuid4().hex[:8]}"
    spec = TopicSpec(name, partitions=3)
    assert await ensure_topics(kafka_bootstrap, [spec]) == [name]
    assert await ensure_topics(kafka_bootstrap, [spec]) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([name])
    finally:
        await admin.close()
    assert len(described["partitions"]) == 3
