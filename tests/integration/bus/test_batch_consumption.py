"""Batches through the real embedded broker: one call per partition batch, in offset order,
a poison event dead-lettered alone (or holding its partition while the DLQ is down),
undecodable records dead-lettered in place, unwanted types skipped before decoding."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1.events_pb2 import StatusChanged
from chargegrid.platform.bus import (
    BatchConsumer,
    BusUnavailable,
    Delivered,
    Delivery,
    EventProducer,
    ProducerConfig,
    dlq_topic,
    unpack,
)
from chargegrid.platform.bus.headers import EVENT_TYPE_HEADER, header_event_type
from tests.integration.bus.conftest import BusKit, run_in_background, wait_until


def _group() -> str:
    return f"group-{uuid.uuid4().hex[:8]}"


def _numbers(items: Sequence[Delivered]) -> list[int]:
    return [unpack(envelope, StatusChanged).connector_id for envelope, _ in items]


async def _publish_numbered(bus: BusKit, count: int, station: str = "CP-batch") -> list[Envelope]:
    sent = [bus.an_event(station, connector_id=n) for n in range(1, count + 1)]
    await bus.producer.publish_batch([(bus.topic, envelope) for envelope in sent])
    return sent


async def _committed(bus: BusKit, group: str, partition: int) -> int | None:
    probe = AIOKafkaConsumer(
        bootstrap_servers=bus.bootstrap, group_id=group, enable_auto_commit=False
    )
    await probe.start()
    try:
        return await probe.committed(TopicPartition(bus.topic, partition))
    finally:
        await probe.stop()


async def test_a_partition_batch_reaches_the_handler_in_one_call_in_offset_order(
    bus: BusKit,
) -> None:
    sent = await _publish_numbered(bus, 40)
    calls: list[list[int]] = []

    async def handler(items: Sequence[Delivered]) -> None:
        calls.append(_numbers(items))

    group = _group()
    consumer = bus.batch_consumer(handler, group)
    task = await run_in_background(consumer)
    await wait_until(lambda: sum(map(len, calls)) == 40)
    await consumer.stop()
    await task

    assert [n for call in calls for n in call] == list(range(1, 41))
    assert len(calls) < 40
    assert max(map(len, calls)) > 1
    last = await bus.producer.publish(bus.topic, bus.an_event("CP-batch"))
    assert await _committed(bus, group, last.partition) == last.offset
    assert len(sent) == 40


async def test_a_poison_event_is_dead_lettered_alone_while_the_rest_of_its_batch_succeeds(
    bus: BusKit,
) -> None:
    await _publish_numbered(bus, 20)
    applied: list[int] = []

    async def all_or_nothing(items: Sequence[Delivered]) -> None:
        numbers = _numbers(items)
        if 7 in numbers:
            raise ValueError("event 7 breaks a rule")
        applied.extend(numbers)  # like a transaction: only a whole success leaves a trace

    consumer = bus.batch_consumer(all_or_nothing, _group(), max_attempts=2)
    task = await run_in_background(consumer)
    dlq = AIOKafkaConsumer(
        dlq_topic(bus.topic),
        bootstrap_servers=bus.bootstrap,
        auto_offset_reset="earliest",
        group_id=_group(),
    )
    await dlq.start()
    try:
        dead = await asyncio.wait_for(dlq.getone(), 20)
        await wait_until(lambda: len(applied) == 19)
        extra = await dlq.getmany(timeout_ms=500)
    finally:
        await dlq.stop()
        await consumer.stop()
        await task

    assert applied == [n for n in range(1, 21) if n != 7]
    envelope = Envelope()
    envelope.ParseFromString(dead.value)
    assert unpack(envelope, StatusChanged).connector_id == 7
    assert dict(dead.headers)["dlq-error-message"] == b"event 7 breaks a rule"
    assert not any(extra.values()), "only the poison event goes to the DLQ"


async def test_event_types_the_handler_does_not_want_are_skipped_before_decoding(
    bus: BusKit,
) -> None:
    wanted = bus.an_event("CP-filter", connector_id=1)
    other = bus.factory.wrap("station.heartbeat", "CP-filter", StatusChanged(connector_id=2))
    untyped = bus.factory.wrap("station.heartbeat", "CP-filter", StatusChanged(connector_id=3))
    await bus.producer.publish(bus.topic, other)
    # Would be dead-lettered if decoded: its header says it is not wanted, so it is not.
    await bus.producer.publish_raw(
        bus.topic, b"CP-filter", b"\xff not protobuf", [(EVENT_TYPE_HEADER, b"station.heartbeat")]
    )
    await bus.producer.publish_raw(bus.topic, b"CP-filter", untyped.SerializeToString())
    await bus.producer.publish(bus.topic, wanted)
    seen: list[Envelope] = []

    async def handler(items: Sequence[Delivered]) -> None:
        seen.extend(envelope for envelope, _ in items)

    consumer = bus.batch_consumer(
        handler, _group(), event_types=frozenset({"station.status_changed"})
    )
    task = await run_in_background(consumer)
    await wait_until(lambda: len(seen) == 1)
    dlq = AIOKafkaConsumer(
        dlq_topic(bus.topic),
        bootstrap_servers=bus.bootstrap,
        auto_offset_reset="earliest",
        group_id=_group(),
    )
    await dlq.start()
    try:
        dead = await dlq.getmany(timeout_ms=1000)
    finally:
        await dlq.stop()
        await consumer.stop()
        await task
    assert seen == [wanted]
    assert not any(dead.values())


async def test_every_published_event_names_its_type_in_a_header(bus: BusKit) -> None:
    one = bus.an_event("CP-header")
    await bus.producer.publish(bus.topic, one)
    await bus.producer.publish_batch([(bus.topic, bus.an_event("CP-header"))])
    reader = AIOKafkaConsumer(
        bus.topic, bootstrap_servers=bus.bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await reader.start()
    try:
        records: list[ConsumerRecord] = []
        while len(records) < 2:
            batch = await reader.getmany(timeout_ms=2000)
            records += [r for rs in batch.values() for r in rs]
    finally:
        await reader.stop()
    assert [header_event_type(r.headers) for r in records] == ["station.status_changed"] * 2


class DlqDown(EventProducer):
    """The real producer, but the dead-letter topic refuses records while `down` is set."""

    down = True

    async def publish_raw(self, topic: str, *args: Any, **kwargs: Any) -> Delivery:
        if self.down and topic.endswith(".dlq"):
            raise BusUnavailable("dead-letter topic unavailable")
        return await super().publish_raw(topic, *args, **kwargs)


async def test_a_poison_event_that_cannot_be_dead_lettered_holds_its_partition_until_it_can(
    bus: BusKit,
) -> None:
    await _publish_numbered(bus, 6)
    applied: list[int] = []

    async def all_or_nothing(items: Sequence[Delivered]) -> None:
        numbers = _numbers(items)
        if 3 in numbers:
            raise ValueError("event 3 breaks a rule")
        applied.extend(numbers)

    producer = DlqDown(ProducerConfig(bus.bootstrap, publish_timeout_s=5))
    await producer.start()
    group = _group()
    consumer = BatchConsumer(bus.config(group, max_attempts=1), all_or_nothing, producer)
    task = await run_in_background(consumer)
    try:
        await wait_until(lambda: applied == [1, 2])
        await asyncio.sleep(1.0)
        assert applied == [1, 2], "nothing after the stuck event may be applied"
        producer.down = False
        await wait_until(lambda: applied == [1, 2, 4, 5, 6])
    finally:
        await consumer.stop()
        await task
        await producer.stop()


async def test_an_undecodable_record_inside_a_batch_is_dead_lettered_between_its_neighbours(
    bus: BusKit,
) -> None:
    before, after = bus.an_event("CP-mixed", 1), bus.an_event("CP-mixed", 2)
    await bus.producer.publish(bus.topic, before)
    await bus.producer.publish_raw(bus.topic, b"CP-mixed", b"\xff not protobuf")
    await bus.producer.publish(bus.topic, after)
    seen: list[int] = []

    async def handler(items: Sequence[Delivered]) -> None:
        seen.extend(_numbers(items))

    consumer = bus.batch_consumer(handler, _group())
    task = await run_in_background(consumer)
    dlq = AIOKafkaConsumer(
        dlq_topic(bus.topic),
        bootstrap_servers=bus.bootstrap,
        auto_offset_reset="earliest",
        group_id=_group(),
    )
    await dlq.start()
    try:
        dead = await asyncio.wait_for(dlq.getone(), 20)
        await wait_until(lambda: len(seen) == 2)
    finally:
        await dlq.stop()
        await consumer.stop()
        await task
    assert seen == [1, 2]
    assert dead.value == b"\xff not protobuf"
    assert dict(dead.headers)["dlq-error-type"] == b"UndecodableEvent"
