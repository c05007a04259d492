"""Kafka entrypoint: transactions in progress, and local-list reconciliation at boot.

Which transactions are in progress is the session service's word (session.events.v1:
opened, updated, closed), not a guess from transaction events: when a station loses a
transaction and the session service closes it (reboot, new transaction on the outlet,
outlet free, the operator), the card is free here too. Each event is written with its id
claimed in the same database transaction (a re-delivery changes nothing), then applied to
this replica's engine; the other replicas read it from the database. An accepted boot only
queues a reconciliation: the consumer never waits on a station.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.station.v1.events_pb2 import StationBooted
from chargegrid.authorization.domain import ActiveTransaction, Clock
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.local_lists import LocalLists
from chargegrid.authorization.transactions import TransactionStore
from chargegrid.platform.bus import claim_event, unpack
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
CONSUMER = "authorization"
_SESSION_PAYLOADS: dict[
    str, type[session_pb.SessionOpened | session_pb.SessionUpdated | session_pb.SessionClosed]
] = {
    kind.DESCRIPTOR.full_name: kind
    for kind in (session_pb.SessionOpened, session_pb.SessionUpdated, session_pb.SessionClosed)
}


def _session_of(envelope: Envelope) -> session_pb.Session:
    payload = unpack(envelope, _SESSION_PAYLOADS[envelope.payload.TypeName()])
    return payload.session


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
            **{name: self.session_changed for name in _SESSION_PAYLOADS},
            StationBooted.DESCRIPTOR.full_name: self.station_booted,
        }

    async def handle(self, envelope: Envelope, _record: ConsumerRecord | None = None) -> None:
        handler = self._by_payload.get(envelope.payload.TypeName())
        if handler is not None:
            await handler(envelope)

    async def session_changed(self, envelope: Envelope) -> None:
        session = _session_of(envelope)
        if not session.station_id or not session.transaction_id:
            log.warning("session event without station or transaction", event_id=envelope.event_id)
            return
        tx = ActiveTransaction(
            session.station_id,
            session.transaction_id,
            session.id_token.id,
            ended=session.status != session_pb.SESSION_STATUS_ACTIVE,
            updated_at=self.clock(),
            evse_id=session.evse_id,
        )
        async with self.sessions() as db, db.begin():
            if not await claim_event(db, CONSUMER, envelope.event_id, self.clock()):
                return
            changed = await self.transactions.record(db, tx)
        if changed is not None:
            self.engine.apply_transaction(changed)

    async def station_booted(self, envelope: Envelope) -> None:
        event = unpack(envelope, StationBooted)
        if event.registration_status == "Accepted":
            self.local_lists.station_booted(envelope.station_id)
