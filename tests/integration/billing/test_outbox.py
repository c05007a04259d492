"""The outbox keeps cdr.created events through a broker outage and publishes them after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.billing.publisher import OutboxPublisher
from chargegrid.billing.store import outbox
from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory
from chargegrid.platform.bus.topics import BILLING_EVENTS
from tests.integration.billing.conftest import Database

NOW = datetime(2026, 1, 15, tzinfo=UTC)


class FlakyProducer:
    """Refuses while `down`; remembers what it was given otherwise."""

    def __init__(self) -> None:
        self.down = True
        self.sent: list[tuple[str, Envelope]] = []

    async def publish_batch(self, items: list[tuple[str, Envelope]]) -> list[Any]:
        if self.down:
            raise BusUnavailable("broker down")
        self.sent.extend(items)
        return []


async def test_events_wait_out_an_outage_and_go_out_once_in_order(db: Database) -> None:
    factory = EnvelopeFactory("billing/test")
    async with db.sessions() as session, session.begin():
        for n in range(3):
            await outbox.enqueue(
                session, BILLING_EVENTS, factory.wrap("cdr.created", f"CP-{n}", Envelope()), NOW
            )
    producer = FlakyProducer()
    publisher = OutboxPublisher(db.sessions, producer, batch_size=2)  # type: ignore[arg-type]
    with pytest.raises(BusUnavailable):
        await publisher.publish_once()
    async with db.sessions() as session:
        assert await outbox.waiting(session) == 3
    producer.down = False
    assert await publisher.publish_once() == 2
    assert await publisher.publish_once() == 1
    assert await publisher.publish_once() == 0
    assert [envelope.station_id for _, envelope in producer.sent] == ["CP-0", "CP-1", "CP-2"]
    async with db.sessions() as session:
        assert await outbox.waiting(session) == 0
