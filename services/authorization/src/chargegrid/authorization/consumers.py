"""Kafka entrypoint: transactions in progress, and local-list reconciliation at boot.

Which transactions are in progress is the session service's word (session.events.v1:
opened, updated, closed), not a guess from transaction events: when a station loses a
transaction and the session service closes it (reboot, new transaction on the outlet,
outlet free, the operator), the card is free here too. Only those event types and boots are
decoded (the rest is skipped by header). A partition's batch is written in one database
transaction with its event ids claimed in one statement (a re-delivery changes nothing),
then applied to this replica's engine; the other replicas read it from the database. An
accepted boot only queues a reconciliation: the consumer never waits on a station.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.station.v1.events_pb2 import StationBooted
from chargegrid.authorization.domain import ActiveTransaction, Clock
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.local_lists import LocalLists
from chargegrid.authorization.transactions import TransactionStore
from chargegrid.platform.bus import Delivered, claim_events, unpack
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
CONSUMER = "authorization"
_SESSION_PAYLOADS: dict[
    str, type[session_pb.SessionOpened | session_pb.SessionUpdated | session_pb.SessionClosed]
] = {
    kind.DESCRIPTOR.full_name: kind
    for kind in (session_pb.SessionOpened, session_pb.SessionUpdated, session_pb.SessionClosed)
}
BOOTED = "station.booted"
_BOOT_PAYLOAD = StationBooted.DESCRIPTOR.full_name
#: What the consumer decodes; every other event of its topics is skipped by header.
EVENT_TYPES = frozenset({"session.opened", "session.updated", "session.closed", BOOTED})


def _accepted_boot(envelope: Envelope) -> bool:
    if envelope.payload.TypeName() != _BOOT_PAYLOAD:
        return False
    return unpack(envelope, StationBooted).registration_status == "Accepted"


class EventHandlers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transactions: TransactionStore,
        engine: DecisionEngine,
        local_lists: LocalLists,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.transactions = transactions
        self.engine = engine
        self.local_lists = local_lists
        self.clock = clock

    async def handle(self, envelope: Envelope, _record: ConsumerRecord | None = None) -> None:
        """One event (tests, and a record the batch consumer retries alone)."""
        await self.apply([envelope])

    async def batch(self, items: Sequence[Delivered]) -> None:
        """A partition batch from the batch consumer, in offset order."""
        await self.apply([envelope for envelope, _ in items])

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        now = self.clock()
        changes = [(e, tx) for e in envelopes if (tx := self._transaction_of(e, now)) is not None]
        if changes:
            async with self.sessions() as db, db.begin():
                fresh = await claim_events(db, CONSUMER, [e.event_id for e, _ in changes], now)
                todo: list[ActiveTransaction] = []
                for envelope, tx in changes:
                    if envelope.event_id in fresh:
                        fresh.discard(envelope.event_id)  # twice in one batch: applied once
                        todo.append(tx)
                changed = await self.transactions.record_all(db, todo)
            for tx in changed:
                self.engine.apply_transaction(tx)
        # Boots are not claimed: one only queues a reconciliation, which may run twice.
        for envelope in envelopes:
            if _accepted_boot(envelope):
                self.local_lists.station_booted(envelope.station_id)

    def _transaction_of(self, envelope: Envelope, now: datetime) -> ActiveTransaction | None:
        payload = _SESSION_PAYLOADS.get(envelope.payload.TypeName())
        if payload is None:
            return None
        session = unpack(envelope, payload).session
        if not session.station_id or not session.transaction_id:
            log.warning("session event without station or transaction", event_id=envelope.event_id)
            return None
        return ActiveTransaction(
            session.station_id,
            session.transaction_id,
            session.id_token.id,
            ended=session.status != session_pb.SESSION_STATUS_ACTIVE,
            updated_at=now,
            evse_id=session.evse_id,
        )
