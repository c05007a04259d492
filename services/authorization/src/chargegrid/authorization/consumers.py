"""Kafka entrypoint: transactions in progress, and local-list reconciliation at boot.

Transaction events are written with their event id claimed in the same database
transaction (a re-delivered event changes nothing), then applied to this replica's engine;
the other replicas read them from the database. An accepted boot only queues a
reconciliation: the consumer never waits on a station.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1.events_pb2 import StationBooted
from chargegrid.api.transaction.v1.events_pb2 import (
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from chargegrid.authorization.domain import ActiveTransaction, Clock
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.local_lists import LocalLists
from chargegrid.authorization.transactions import TransactionStore
from chargegrid.platform.bus import claim_event, unpack
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
CONSUMER = "authorization"


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
        self._by_payload: dict[str, Callable[[Envelope], Awaitable[None]]] = {
            TransactionStarted.DESCRIPTOR.full_name: self.transaction_started,
            TransactionUpdated.DESCRIPTOR.full_name: self.transaction_updated,
            TransactionEnded.DESCRIPTOR.full_name: self.transaction_ended,
            StationBooted.DESCRIPTOR.full_name: self.station_booted,
        }

    async def handle(self, envelope: Envelope, _record: ConsumerRecord | None = None) -> None:
        handler = self._by_payload.get(envelope.payload.TypeName())
        if handler is not None:
            await handler(envelope)

    async def transaction_started(self, envelope: Envelope) -> None:
        event = unpack(envelope, TransactionStarted)
        await self._record(envelope, event.transaction_id, event.id_token.id, ended=False)

    async def transaction_updated(self, envelope: Envelope) -> None:
        event = unpack(envelope, TransactionUpdated)
        if event.id_token.id:  # 2.x may name the token only once the transaction runs
            await self._record(envelope, event.transaction_id, event.id_token.id, ended=False)

    async def transaction_ended(self, envelope: Envelope) -> None:
        event = unpack(envelope, TransactionEnded)
        await self._record(envelope, event.transaction_id, event.id_token.id, ended=True)

    async def _record(
        self, envelope: Envelope, transaction_id: str, id_token: str, ended: bool
    ) -> None:
        if not transaction_id:
            log.warning("transaction event without transaction id", event_id=envelope.event_id)
            return
        tx = ActiveTransaction(
            envelope.station_id, transaction_id, id_token, ended=ended, updated_at=self.clock()
        )
        async with self.sessions() as session, session.begin():
            if not await claim_event(session, CONSUMER, envelope.event_id, self.clock()):
                return
            if ended:
                changed: ActiveTransaction | None = await self.transactions.ended(session, tx)
            else:
                changed = await self.transactions.started(session, tx)
        if changed is not None:
            self.engine.apply_transaction(changed)

    async def station_booted(self, envelope: Envelope) -> None:
        event = unpack(envelope, StationBooted)
        if event.registration_status == "Accepted":
            self.local_lists.station_booted(envelope.station_id)
