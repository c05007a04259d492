"""Event handlers on both databases: re-delivery is harmless, whatever the order."""

from __future__ import annotations

from chargegrid.authorization.consumers import CONSUMER
from chargegrid.platform.bus import claim_event
from tests.integration.authorization.conftest import Service
from tests.integration.authorization.test_consumer import ended, started


async def test_a_redelivered_event_is_claimed_once_and_changes_nothing(service: Service) -> None:
    handlers, engine = service.app.handlers, service.app.engine
    first = started("CP-R", "tx-3", "TAG")
    await handlers.handle(first)
    await handlers.handle(first)
    assert engine.transactions_of("TAG") == {("CP-R", "tx-3")}
    await handlers.handle(ended("CP-R", "tx-3"))
    await handlers.handle(first)  # redelivered after the end
    assert engine.transactions_of("TAG") == set()
    async with handlers.sessions() as session:
        assert await claim_event(session, CONSUMER, first.event_id) is False
