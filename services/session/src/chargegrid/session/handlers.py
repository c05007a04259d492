"""Event handlers: one transaction per batch of events, deciding state and outgoing events.

A batch (a partition's poll, or one event) claims its event ids in one statement, loads
the sessions it touches in one query, then applies the domain rules event by event in
order, exactly as one event at a time would: the session changes, samples, energy
recounts when a reading came out of order, and the session events decided into the outbox.
All of it commits together. A re-delivered event finds its id claimed and changes nothing;
a crash before commit leaves nothing behind, so the redelivery does the whole thing once.
`after_commit` wakes the publisher.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import Delivered, claim_events, occurred_at
from chargegrid.session.clock import Clock
from chargegrid.session.convert import fact_of
from chargegrid.session.domain.emission import emissions, mark_emitted
from chargegrid.session.domain.lifecycle import (
    apply,
    interrupt,
    new_session,
    series_readings,
    settle_energy,
)
from chargegrid.session.domain.model import Rebooted, SessionState, TransactionFact, session_id_of
from chargegrid.session.outbox import Outbox
from chargegrid.session.sites import SiteLookup, no_sites
from chargegrid.session.store import SessionStore

CONSUMER = "session"
BOOTED = "station.booted"
TRANSACTION_TYPES = frozenset({"transaction.started", "transaction.updated", "transaction.ended"})
#: What the consumer decodes; every other event of its topics is skipped by header.
EVENT_TYPES = TRANSACTION_TYPES | {BOOTED}

Work = tuple[Envelope, TransactionFact | None]


def _nothing() -> None:
    return None


def _work_of(envelopes: Sequence[Envelope]) -> list[Work]:
    """The events this service acts on, each with its fact (None for a boot)."""
    work: list[Work] = []
    for envelope in envelopes:
        if envelope.type == BOOTED:
            work.append((envelope, None))
        elif envelope.type in TRANSACTION_TYPES and envelope.station_id:
            fact = fact_of(envelope)
            if fact is not None and fact.transaction_id:
                work.append((envelope, fact))
    return work


@dataclass
class SessionEvents:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    clock: Clock
    sites: SiteLookup = no_sites
    update_interval_s: float = 30.0
    after_commit: Callable[[], None] = _nothing

    async def __call__(self, envelope: Envelope, record: ConsumerRecord | None = None) -> None:
        """One event (the per-record consumer, tests)."""
        await self.apply([envelope])

    async def batch(self, items: Sequence[Delivered]) -> None:
        """A partition batch from the batch consumer, in offset order."""
        await self.apply([envelope for envelope, _ in items])

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        work = _work_of(envelopes)
        if not work:
            return
        stations = {envelope.station_id for envelope, fact in work if fact is not None}
        sites = {station: await self.sites(station) for station in stations}
        now = self.clock()
        async with self.sessions() as db, db.begin():
            fresh = await claim_events(db, CONSUMER, [e.event_id for e, _ in work], now)
            store = SessionStore(db)
            await store.load(
                session_id_of(e.station_id, f.transaction_id) for e, f in work if f is not None
            )
            for envelope, fact in work:
                if envelope.event_id not in fresh:
                    continue
                fresh.discard(envelope.event_id)  # twice in one batch: applied once
                if fact is None:
                    await self._on_booted(db, store, envelope)
                else:
                    site_id = sites[envelope.station_id]
                    await self._on_transaction(db, store, envelope.station_id, fact, site_id)
            await store.flush()
        self.after_commit()

    async def _on_transaction(
        self,
        db: AsyncSession,
        store: SessionStore,
        station_id: str,
        fact: TransactionFact,
        site_id: str,
    ) -> None:
        state = await store.get(session_id_of(station_id, fact.transaction_id))
        if state is None:
            state = new_session(station_id, fact, site_id)
        state.site_id = state.site_id or site_id
        apply(state, fact)
        store.save(state)
        store.add_samples(state.id, fact.samples)
        if state.needs_energy_recount:
            stored = await store.register_readings(state.id)
            settle_energy(state, series_readings(state, stored))
        self._emit(db, state)
        store.save(state)

    async def _on_booted(self, db: AsyncSession, store: SessionStore, envelope: Envelope) -> None:
        reboot = Rebooted(envelope.station_id, occurred_at(envelope))
        for state in await store.active_of_station(reboot.station_id):
            if interrupt(state, reboot):
                self._emit(db, state)
                store.save(state)

    def _emit(self, db: AsyncSession, state: SessionState) -> None:
        now = self.clock()
        kinds = emissions(state, now, self.update_interval_s)
        for kind in kinds:
            self.outbox.add(db, kind, state, now)
        mark_emitted(state, kinds, now)
