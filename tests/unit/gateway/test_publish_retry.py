"""A retriable publish failure is retried within the budget; anything else reaches the station."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.errors import MessageSizeTooLargeError, NodeNotReadyError, UnknownError

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.publishing import Exchange, GatewayPublisher
from chargegrid.gateway.routing import Emit, StationInfo
from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory
from chargegrid.platform.bus.producer import is_retriable
from chargegrid.platform.bus.topics import STATION_EVENTS


class FlakyProducer:
    """Fails the first `failures` publishes with `error`, then stores."""

    def __init__(self, failures: int, error: BusUnavailable) -> None:
        self.failures = failures
        self.error = error
        self.attempts: list[list[str]] = []
        self.timeouts: list[float | None] = []

    async def publish_batch(
        self, items: list[tuple[str, Any]], timeout_s: float | None = None
    ) -> None:
        self.attempts.append([envelope.event_id for _, envelope in items])
        self.timeouts.append(timeout_s)
        if len(self.attempts) <= self.failures:
            raise self.error


def publisher_for(producer: FlakyProducer, budget_s: float) -> GatewayPublisher:
    return GatewayPublisher(producer, EnvelopeFactory("gateway/test"), budget_s)  # type: ignore[arg-type]


async def store(publisher: GatewayPublisher) -> None:
    station = StationInfo("CP1", OcppVersion.V16, "gw-0", "127.0.0.1", datetime.now(UTC))
    exchange = Exchange(1, '[2,"u1","Heartbeat",{}]', 2, "u1", "Heartbeat")
    events = [Emit(STATION_EVENTS, "station.heartbeat", ev.HeartbeatReceived())]
    await publisher.store(station, exchange, events, "u1")


def unavailable(cause: Exception) -> BusUnavailable:
    return BusUnavailable(f"not acknowledged: {cause!r}", is_retriable(cause))


async def test_a_broker_restart_inside_the_budget_is_retried_with_the_same_event_ids() -> None:
    producer = FlakyProducer(3, unavailable(NodeNotReadyError()))
    await store(publisher_for(producer, budget_s=5.0))
    assert len(producer.attempts) == 4
    assert all(ids == producer.attempts[0] for ids in producer.attempts)  # consumers dedupe
    assert all(t is not None and t <= 5.0 for t in producer.timeouts)


async def test_unknown_error_after_a_restart_counts_as_retriable() -> None:
    producer = FlakyProducer(2, unavailable(UnknownError()))
    await store(publisher_for(producer, budget_s=5.0))
    assert len(producer.attempts) == 3


async def test_a_record_too_large_is_not_retried() -> None:
    producer = FlakyProducer(1, unavailable(MessageSizeTooLargeError()))
    with pytest.raises(BusUnavailable):
        await store(publisher_for(producer, budget_s=5.0))
    assert len(producer.attempts) == 1


async def test_an_outage_longer_than_the_budget_reaches_the_station() -> None:
    producer = FlakyProducer(10_000, unavailable(TimeoutError()))
    with pytest.raises(BusUnavailable):
        await store(publisher_for(producer, budget_s=0.3))
    assert 2 <= len(producer.attempts) < 10_000
