"""Events through the real embedded broker: delivery, retries, dead letters, redelivery."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from opentelemetry import trace

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1.events_pb2 import StatusChanged
from chargegrid.platform.bus import (
    BusUnavailable,
    EnvelopeFactory,
    EventProducer,
    InMemoryProcessedEvents,
    ProducerConfig,
    deduplicated,
    dlq_topic,
    unpack,
)
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.telemetry import get_tracer, setup_telemetry
from tests.integration.bus.conftest import BusKit, run_in_background, wait_until


def _group() -> str:
    return f"group-{uuid.uuid4().hex[:8]}"


async def test_an_event_arrives_with_its_envelope_and_trace_context_intact(bus: BusKit) -> None:
    setup_telemetry("bus-tests")
    received: list[tuple[Envelope, int]] = []

    async def handler(envelope: Envelope, _record: ConsumerRecord) -> None:
        received.append((envelope, trace.get_current_span().get_span_context().trace_id))

    sent = bus.an_event("CP-trace", connector_id=2)
    with get_tracer("tests").start_as_current_span("station frame") as span:
        await bus.producer.publish(bus.topic, sent)
        trace_id = span.get_span_context().trace_id

    consumer = bus.consumer(handler, _group())
    task = await run_in_background(consumer)
    await wait_until(lambda: len(received) == 1)
    await consumer.stop()
    await task

    envelope, seen_trace_id = received[0]
    assert envelope == sent
    assert unpack(envelope, StatusChanged).connector_id == 2
    assert seen_trace_id == trace_id


async def test_a_handler_failing_twice_is_retried_and_committed_once(bus: BusKit) -> None:
    calls: list[str] = []

    async def flaky(envelope: Envelope, _record: ConsumerRecord) -> None:
        calls.append(envelope.event_id)
        if len(calls) <= 2:
            raise RuntimeError("database hiccup")

    delivery = await bus.producer.publish(bus.topic, bus.an_event())
    group = _group()
    consumer = bus.consumer(flaky, group)
    task = await run_in_background(consumer)
    await wait_until(lambda: len(calls) == 3)
    await consumer.stop()
    await task

    tp = TopicPartition(bus.topic, delivery.partition)
    probe = AIOKafkaConsumer(
        bootstrap_servers=bus.bootstrap, group_id=group, enable_auto_commit=False
    )
    await probe.start()
    try:
        assert await probe.committed(tp) == delivery.offset + 1
    finally:
        await probe.stop()

    again: list[str] = []

    async def record(envelope: Envelope, _record: ConsumerRecord) -> None:
        again.append(envelope.event_id)

    second = bus.consumer(record, group)
    task = await run_in_background(second)
    marker = await bus.producer.publish(bus.topic, bus.an_event())
    await wait_until(lambda: len(again) >= 1)
    await second.stop()
    await task
    assert len(set(calls)) == 1
    assert calls[0] not in again, "a committed event was delivered again"
    assert marker.offset >= 0


async def test_a_handler_that_always_fails_sends_the_event_to_the_dlq(bus: BusKit) -> None:
    async def broken(_envelope: Envelope, _record: ConsumerRecord) -> None:
        raise ValueError("tariff missing for site S1")

    sent = bus.an_event("CP-dlq")
    await bus.producer.publish(bus.topic, sent)
    consumer = bus.consumer(broken, _group(), max_attempts=3)
    task = await run_in_background(consumer)

    dlq = AIOKafkaConsumer(
        dlq_topic(bus.topic),
        bootstrap_servers=bus.bootstrap,
        auto_offset_reset="earliest",
        group_id=_group(),
    )
    await dlq.start()
    try:
        record = await asyncio.wait_for(dlq.getone(), 20)
    finally:
        await dlq.stop()
        await consumer.stop()
        await task
    headers = {key: value.decode() for key, value in record.headers}
    assert record.value == sent.SerializeToString()
    assert record.key == b"CP-dlq"
    assert headers["dlq-error-type"] == "ValueError"
    assert headers["dlq-error-message"] == "tariff missing for site S1"
    assert headers["dlq-attempts"] == "3"
    assert headers["dlq-original-topic"] == bus.topic


async def test_undecodable_records_go_straight_to_the_dlq(bus: BusKit) -> None:
    handled: list[str] = []

    async def handler(envelope: Envelope, _record: ConsumerRecord) -> None:
        handled.append(envelope.event_id)

    await bus.producer.publish_raw(bus.topic, b"CP-x", b"\xff\x00 not protobuf")
    good = bus.an_event("CP-x")
    await bus.producer.publish(bus.topic, good)
    consumer = bus.consumer(handler, _group())
    task = await run_in_background(consumer)
    dlq = AIOKafkaConsumer(
        dlq_topic(bus.topic),
        bootstrap_servers=bus.bootstrap,
        auto_offset_reset="earliest",
        group_id=_group(),
    )
    await dlq.start()
    try:
        record = await asyncio.wait_for(dlq.getone(), 20)
        await wait_until(lambda: handled == [good.event_id])
    finally:
        await dlq.stop()
        await consumer.stop()
        await task
    assert dict(record.headers)["dlq-error-type"] == b"UndecodableEvent"
    assert dict(record.headers)["dlq-attempts"] == b"0"


#: 0: a commit after every batch (the default); 60 s: commits held back (`make run` sets 1 s).
COMMIT_INTERVALS = pytest.mark.parametrize("commit_interval_ms", [0, 60_000])


@COMMIT_INTERVALS
async def test_a_consumer_killed_mid_batch_redelivers_only_what_it_had_not_committed(
    bus: BusKit, commit_interval_ms: int
) -> None:
    group = _group()
    first_round = [bus.an_event("CP-kill") for _ in range(5)]
    for event in first_round:
        await bus.producer.publish(bus.topic, event)

    done: list[str] = []

    async def handler(envelope: Envelope, _record: ConsumerRecord) -> None:
        done.append(envelope.event_id)

    consumer = bus.consumer(handler, group, commit_interval_ms=commit_interval_ms)
    task = await run_in_background(consumer)
    await wait_until(lambda: len(done) == 5)
    await consumer.stop()  # graceful: commits the first round
    await task

    second_round = [bus.an_event("CP-kill") for _ in range(5)]
    for event in second_round:
        await bus.producer.publish(bus.topic, event)
    halfway: list[str] = []
    blocked = asyncio.Event()

    async def dies_on_the_third(envelope: Envelope, _record: ConsumerRecord) -> None:
        halfway.append(envelope.event_id)
        if len(halfway) == 3:
            blocked.set()
            await asyncio.sleep(3600)  # the process "dies" here, mid-batch

    victim = bus.consumer(dies_on_the_third, group, commit_interval_ms=commit_interval_ms)
    task = await run_in_background(victim)
    await asyncio.wait_for(blocked.wait(), 20)
    task.cancel()  # killed: no graceful stop, nothing committed for this batch
    await asyncio.gather(task, return_exceptions=True)
    await victim.stop(timeout_s=1)

    redelivered: list[str] = []

    async def survivor(envelope: Envelope, _record: ConsumerRecord) -> None:
        redelivered.append(envelope.event_id)

    heir = bus.consumer(survivor, group, commit_interval_ms=commit_interval_ms)
    task = await run_in_background(heir)
    await wait_until(lambda: len(redelivered) >= 5)
    await asyncio.sleep(0.3)
    await heir.stop()
    await task
    assert sorted(redelivered) == sorted(e.event_id for e in second_round)


async def test_redelivered_events_are_skipped_by_the_idempotency_guard(bus: BusKit) -> None:
    effects: list[str] = []

    async def apply(envelope: Envelope, _record: ConsumerRecord) -> None:
        effects.append(envelope.event_id)

    event = bus.an_event("CP-dup")
    await bus.producer.publish(bus.topic, event)
    await bus.producer.publish(bus.topic, event)  # the same event, delivered twice
    guarded = deduplicated(apply, InMemoryProcessedEvents(), "test")
    consumer = bus.consumer(guarded, _group(), topics=[bus.topic])
    task = await run_in_background(consumer)
    await wait_until(lambda: len(effects) == 1)
    await asyncio.sleep(0.5)
    await consumer.stop()
    await task
    assert effects == [event.event_id]


async def test_publishing_with_the_broker_stopped_raises_a_clear_error_quickly() -> None:
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    producer = EventProducer(ProducerConfig(broker.bootstrap_servers, publish_timeout_s=2))
    await producer.start()
    try:
        kit_topic = "test.down.v1"
        kit = BusKit(broker.bootstrap_servers, kit_topic, producer, EnvelopeFactory("tests"))
        event = kit.an_event()
        await producer.publish(kit_topic, event)
        await broker.stop()
        started = time.monotonic()
        with pytest.raises(BusUnavailable, match="did not acknowledge"):
            await producer.publish(kit_topic, event)
        assert time.monotonic() - started < 6
    finally:
        await producer.stop()
        await broker.stop()


async def test_starting_a_producer_without_a_broker_fails_clearly() -> None:
    producer = EventProducer(ProducerConfig(f"127.0.0.1:{free_port()}", publish_timeout_s=1))
    with pytest.raises(BusUnavailable, match="cannot reach Kafka"):
        await producer.start()


@COMMIT_INTERVALS
async def test_a_graceful_stop_finishes_and_commits_the_batch_in_flight(
    bus: BusKit, commit_interval_ms: int
) -> None:
    group = _group()
    events = [bus.an_event("CP-stop") for _ in range(3)]
    for event in events:
        await bus.producer.publish(bus.topic, event)
    handled: list[str] = []
    first_started = asyncio.Event()

    async def slow(envelope: Envelope, _record: ConsumerRecord) -> None:
        first_started.set()
        await asyncio.sleep(0.3)
        handled.append(envelope.event_id)

    consumer = bus.consumer(slow, group, commit_interval_ms=commit_interval_ms)
    task = await run_in_background(consumer)
    await asyncio.wait_for(first_started.wait(), 20)
    await consumer.stop()  # asked to stop while the first record is being handled
    await task
    assert handled == [e.event_id for e in events], "the in-flight batch must be finished"

    again: list[str] = []

    async def record(envelope: Envelope, _record: ConsumerRecord) -> None:
        again.append(envelope.event_id)

    heir = bus.consumer(record, group, commit_interval_ms=commit_interval_ms)
    task = await run_in_background(heir)
    marker = bus.an_event("CP-stop")
    await bus.producer.publish(bus.topic, marker)
    await wait_until(lambda: marker.event_id in again)
    await heir.stop()
    await task
    assert again == [marker.event_id], "what the stopped consumer handled was committed"


async def test_with_a_commit_interval_what_was_handled_is_committed_once_the_group_runs_dry(
    bus: BusKit,
) -> None:
    group = _group()
    events = [bus.an_event("CP-dry") for _ in range(4)]
    for event in events:
        await bus.producer.publish(bus.topic, event)
    handled: list[str] = []

    async def record(envelope: Envelope, _record: ConsumerRecord) -> None:
        handled.append(envelope.event_id)

    consumer = bus.consumer(record, group, commit_interval_ms=60_000)
    task = await run_in_background(consumer)
    await wait_until(lambda: len(handled) == 4)

    async def committed() -> int:
        probe = AIOKafkaConsumer(bootstrap_servers=bus.bootstrap, group_id=group)
        await probe.start()
        try:
            partitions = [TopicPartition(bus.topic, p) for p in range(2)]
            return sum([await probe.committed(tp) or 0 for tp in partitions])
        finally:
            await probe.stop()

    deadline = time.monotonic() + 10
    while await committed() < 4:  # an empty poll commits long before the 60 s interval
        assert time.monotonic() < deadline, "handled offsets were not committed when idle"
        await asyncio.sleep(0.2)
    task.cancel()  # killed: whatever it handled is committed already, so nothing comes again
    await asyncio.gather(task, return_exceptions=True)
    await consumer.stop(timeout_s=1)
    assert sorted(handled) == sorted(e.event_id for e in events)
