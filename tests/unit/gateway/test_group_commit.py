"""Group commit: the stations handled in one event-loop iteration share one acknowledged
publish, each is answered only once all of it is stored, and a failure reaches all of them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.publishing import Exchange, GatewayPublisher
from chargegrid.gateway.routing import Emit, StationInfo
from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory
from chargegrid.platform.bus.topics import OCPP_FRAMES, STATION_EVENTS


class FakeProducer:
    """Records each publish_batch; completes it when `release` is set (or fails)."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, Any]]] = []
        self.release = asyncio.Event()
        self.fail_with: BaseException | None = None

    async def publish_batch(
        self, items: list[tuple[str, Any]], timeout_s: float | None = None
    ) -> None:
        self.batches.append(list(items))
        await self.release.wait()
        if self.fail_with is not None:
            raise self.fail_with


def station(name: str) -> StationInfo:
    return StationInfo(name, OcppVersion.V16, "gw-0", "127.0.0.1", datetime.now(UTC))


def exchange(unique_id: str) -> Exchange:
    return Exchange(1, f'[2,"{unique_id}","Heartbeat",{{}}]', 2, unique_id, "Heartbeat")


def heartbeat() -> list[Emit]:
    return [Emit(STATION_EVENTS, "station.heartbeat", ev.HeartbeatReceived())]


@pytest.fixture
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture
def publisher(producer: FakeProducer) -> GatewayPublisher:
    return GatewayPublisher(producer, EnvelopeFactory("gateway/test"))  # type: ignore[arg-type]


async def store(publisher: GatewayPublisher, name: str) -> None:
    await publisher.store(station(name), exchange(f"u-{name}"), heartbeat(), f"u-{name}")


async def test_stations_of_one_iteration_share_one_publish_and_wait_for_it(
    publisher: GatewayPublisher, producer: FakeProducer
) -> None:
    calls = [asyncio.create_task(store(publisher, name)) for name in ("CP1", "CP2", "CP3")]
    await asyncio.sleep(0.01)
    assert len(producer.batches) == 1
    assert [topic for topic, _ in producer.batches[0]] == [OCPP_FRAMES, STATION_EVENTS] * 3
    assert [envelope.station_id for _, envelope in producer.batches[0][::2]] == [
        "CP1",
        "CP2",
        "CP3",
    ]
    assert not any(call.done() for call in calls)  # nobody is answered before the ack
    producer.release.set()
    await asyncio.gather(*calls)
    # The next iteration opens a new group.
    await store(publisher, "CP4")
    assert len(producer.batches) == 2


async def test_a_failed_publish_fails_every_station_of_the_group(
    publisher: GatewayPublisher, producer: FakeProducer
) -> None:
    producer.fail_with = BusUnavailable("broker down")
    producer.release.set()
    calls = [asyncio.create_task(store(publisher, name)) for name in ("CP1", "CP2")]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(result, BusUnavailable) for result in results)


async def test_an_unexpected_error_still_answers_instead_of_hanging(
    publisher: GatewayPublisher, producer: FakeProducer
) -> None:
    producer.fail_with = ValueError("a bug")
    producer.release.set()
    with pytest.raises(BusUnavailable):
        await asyncio.wait_for(store(publisher, "CP1"), 2)


async def test_a_cancelled_caller_leaves_the_rest_of_its_group_alone(
    publisher: GatewayPublisher, producer: FakeProducer
) -> None:
    gone = asyncio.create_task(store(publisher, "CP1"))
    stays = asyncio.create_task(store(publisher, "CP2"))
    await asyncio.sleep(0.01)
    gone.cancel()
    producer.release.set()
    await stays
    assert gone.cancelled()


async def test_best_effort_records_are_published_on_their_own(
    publisher: GatewayPublisher, producer: FakeProducer
) -> None:
    producer.release.set()
    acknowledged = asyncio.create_task(store(publisher, "CP1"))
    assert await publisher.store_best_effort(station("CP2"), exchange("u-audit"), [])
    await acknowledged
    assert sorted(len(batch) for batch in producer.batches) == [1, 2]
