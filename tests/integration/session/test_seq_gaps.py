"""E12: TransactionEvents a 2.x station's seqNos say never arrived (the gateway's
transaction.seq_gap) are counted on the session, on SQLite and PostgreSQL."""

from __future__ import annotations

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.session.handlers import EVENT_TYPES, SessionEvents
from tests.integration.session.builders import FACTORY, again, at, started, updated
from tests.integration.session.conftest import Database, feed
from tests.integration.session.test_sessions_from_events import session


def seq_gap(minute: float, first_missing: int, received: int, tx_id: str = "42") -> Envelope:
    gap = tx.TransactionSeqGap(
        transaction_id=tx_id, first_missing_seq_no=first_missing, received_seq_no=received
    )
    return FACTORY.wrap("transaction.seq_gap", "CP-1", gap, occurred_at=at(minute))


async def test_E12_missing_events_are_counted_on_the_session_once_each(
    db: Database, events: SessionEvents
) -> None:
    assert "transaction.seq_gap" in EVENT_TYPES
    first = seq_gap(5, 1, 4)
    await feed(events, started(0), updated(5), first, again(first), seq_gap(9, 6, 7))
    read = await session(db)
    assert read.missing_events == 4  # seqNos 1-3, then 6; the redelivered gap counts once


async def test_a_gap_for_a_transaction_without_a_session_changes_nothing(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, seq_gap(1, 0, 3, tx_id="nobody"), started(2))
    assert (await session(db)).missing_events == 0
