"""energy.events.v1: what energy decided and what stations answered.

Site-wide events (allocation changed, demand response started/ended) carry the site id in
their payload and no station id; profile results are keyed by their station. A publish that
Kafka refuses is logged and dropped: the events report decisions, they do not make them,
and the controller must keep stations safe while Kafka is away.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from google.protobuf.message import Message

from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory, EventProducer
from chargegrid.platform.bus.topics import ENERGY_EVENTS
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


class Publisher(Protocol):
    async def publish(self, kind: str, payload: Message, station_id: str = "") -> None: ...


class KafkaPublisher:
    def __init__(self, producer: EventProducer, clock: Callable[[], datetime]) -> None:
        self.producer = producer
        self.factory = EnvelopeFactory(source="energy", clock=clock)

    async def publish(self, kind: str, payload: Message, station_id: str = "") -> None:
        envelope = self.factory.wrap(f"energy.{kind}", station_id, payload)
        try:
            await self.producer.publish(ENERGY_EVENTS, envelope)
        except BusUnavailable as exc:
            log.warning("energy event not published", kind=kind, error=str(exc))


class MemoryPublisher:
    """Keeps what was published (tests, and a service started without Kafka)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Message]] = []

    async def publish(self, kind: str, payload: Message, station_id: str = "") -> None:
        self.events.append((kind, station_id, payload))

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]
