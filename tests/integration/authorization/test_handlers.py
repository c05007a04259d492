"""Event handlers on both databases: re-delivery is harmless, whatever the order."""

from __future__ import annotations

from chargegrid.authorization.consumers import CONSUMER
from chargegrid.platform.bus import claim_event
from tests.integration.authorization.conftest import Service
from tests.integration.authorization.test_consumer import ended, started, updated


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


async def test_a_batch_applies_its_events_in_order_with_duplicates_once(service: Service) -> None:
    handlers, engine = service.app.handlers, service.app.engine
    first, second = started("CP-B", "tx-5", "TAG-B"), started("CP-B", "tx-6", "TAG-B", evse=2)
    await handlers.apply([first, first, second, ended("CP-B", "tx-5"), first])
    assert engine.transactions_of("TAG-B") == {("CP-B", "tx-6")}
    active = {(tx.transaction_id, tx.evse_id) for tx in await handlers.transactions.load_active()}
    assert active == {("tx-6", 2)}


async def test_a_batch_that_changes_nothing_writes_nothing(service: Service) -> None:
    handlers = service.app.handlers
    first = started("CP-N", "tx-7", "TAG-N")
    await handlers.apply([first])
    await handlers.apply([updated("CP-N", "tx-7"), updated("CP-N", "tx-7", "TAG-N")])
    (row,) = [tx for tx in await handlers.transactions.load_active() if tx.station_id == "CP-N"]
    assert (row.id_token, row.ended) == ("TAG-N", False)
