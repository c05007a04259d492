"""Event handlers: one transaction per event, deciding state and outgoing events together.

Each handler claims the event id, loads the session (locked), applies the domain rules,
stores the samples, recounts energy when a reading came out of order, closes the sessions
the fact shows lost (domain/closing.py: a 1.6 boot, a new transaction on the outlet),
and writes the session events it decided into the outbox, all in one database transaction.
A re-delivered event finds its id claimed and changes nothing; a crash before commit leaves
nothing behind, so the redelivery does the whole thing once. `after_commit` wakes the publisher.
An Available / Faulted status is only marked (marks.py); `sweep`, run on a timer, closes
what the outlet still holds once the grace for a normal Ended is over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.common.v1.common_pb2 import OCPP_VERSION_21, OCPP_VERSION_201
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1.events_pb2 import StationBooted
from chargegrid.platform.bus import claim_event, occurred_at, unpack
from chargegrid.session.clock import Clock
from chargegrid.session.convert import fact_of, outlet_freed_of
from chargegrid.session.domain.closing import (
    close_by_operator,
    close_for_freed_outlet,
    close_for_marks,
    close_for_new_transaction,
)
from chargegrid.session.domain.emission import emissions, mark_emitted
from chargegrid.session.domain.lifecycle import (
    apply,
    interrupt,
    new_session,
    series_readings,
    settle_energy,
)
from chargegrid.session.domain.model import (
    EndSession,
    OutletFreed,
    Rebooted,
    SessionState,
    Started,
    TransactionFact,
    session_id_of,
)
from chargegrid.session.marks import OutletMarks
from chargegrid.session.outbox import Outbox
from chargegrid.session.sites import SiteLookup, no_sites
from chargegrid.session.store import SessionStore

CONSUMER = "session"
#: Outlet marks put in force per sweep transaction.
SWEEP_BATCH = 200
#: 2.x stations resume their transactions after a boot (and report them), 1.6 ones do not.
RESUMING_VERSIONS = frozenset({OCPP_VERSION_201, OCPP_VERSION_21})


def _nothing() -> None:
    return None


@dataclass
class SessionEvents:
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    clock: Clock
    sites: SiteLookup = no_sites
    update_interval_s: float = 30.0
    after_commit: Callable[[], None] = _nothing

    async def __call__(self, envelope: Envelope, record: ConsumerRecord | None = None) -> None:
        """Entry point for the consumer of transaction.events.v1 and station.events.v1."""
        if envelope.type.startswith("transaction."):
            await self.on_transaction(envelope)
        elif envelope.type == "station.booted":
            await self.on_booted(envelope)
        elif envelope.type == "station.status_changed":
            await self.on_status(envelope)

    async def on_transaction(self, envelope: Envelope) -> None:
        fact = fact_of(envelope)
        station_id = envelope.station_id
        if fact is None or not fact.transaction_id or not station_id:
            return
        site_id = await self.sites(station_id)
        now = self.clock()
        async with self.sessions() as db, db.begin():
            if not await claim_event(db, CONSUMER, envelope.event_id, now):
                return
            store = SessionStore(db)
            state = await store.get(session_id_of(station_id, fact.transaction_id))
            opens = state is None or isinstance(fact, Started)
            if state is None:
                state = new_session(station_id, fact, site_id)
            token_before = state.id_token
            state.site_id = state.site_id or site_id
            apply(state, fact)
            await store.save(state)
            await store.add_samples(state.id, fact.samples)
            if state.needs_energy_recount:
                stored = await store.register_readings(state.id)
                settle_energy(state, series_readings(state, stored))
            if opens:
                close_for_marks(state, await OutletMarks(db).in_force(station_id))
            self._emit(db, state, urgent=state.id_token != token_before)
            await store.save(state)
            if opens:
                await self._close_displaced(db, store, station_id, fact)
        self.after_commit()

    async def _close_displaced(
        self, db: AsyncSession, store: SessionStore, station_id: str, fact: TransactionFact
    ) -> None:
        """A new transaction on an outlet ends the one the station lost there."""
        for other in await store.active_of_station(station_id):
            if close_for_new_transaction(other, fact):
                self._emit(db, other)
                await store.save(other)

    async def on_booted(self, envelope: Envelope) -> None:
        booted = unpack(envelope, StationBooted)
        reboot = Rebooted(
            envelope.station_id,
            occurred_at(envelope),
            resumes_transactions=booted.ocpp_version in RESUMING_VERSIONS,
        )
        now = self.clock()
        async with self.sessions() as db, db.begin():
            if not await claim_event(db, CONSUMER, envelope.event_id, now):
                return
            store = SessionStore(db)
            if not reboot.resumes_transactions:
                await OutletMarks(db).note(reboot, now)
            for state in await store.active_of_station(reboot.station_id):
                if interrupt(state, reboot):
                    self._emit(db, state)
                    await store.save(state)
        self.after_commit()

    async def on_status(self, envelope: Envelope) -> None:
        freed = outlet_freed_of(envelope)
        if freed is None:
            return
        now = self.clock()
        async with self.sessions() as db, db.begin():
            if not await claim_event(db, CONSUMER, envelope.event_id, now):
                return
            await OutletMarks(db).note(freed, now)

    async def sweep(self, grace_s: float, limit: int = SWEEP_BATCH) -> int:
        """Close what outlets reported free `grace_s` ago still hold (the Ended of a normal
        stop had that long to arrive); the number of marks put in force."""
        now = self.clock()
        closed = False
        async with self.sessions() as db, db.begin():
            marks, store = OutletMarks(db), SessionStore(db)
            due = await marks.due(now - timedelta(seconds=grace_s), limit)
            for mark in due:
                for state in await store.active_of_station(mark.station_id):
                    if isinstance(mark, OutletFreed) and close_for_freed_outlet(state, mark):
                        self._emit(db, state)
                        await store.save(state)
                        closed = True
                if isinstance(mark, OutletFreed):
                    await marks.swept(mark)
        if closed:
            self.after_commit()
        return len(due)

    async def end_session(self, command: EndSession) -> tuple[SessionState | None, bool]:
        """The operator's close: the session (None if there is none) and whether this
        call closed it (False when it was no longer active)."""
        async with self.sessions() as db, db.begin():
            store = SessionStore(db)
            state = await store.get(command.session_id)
            if state is None or not close_by_operator(state, command):
                return state, False
            self._emit(db, state)
            await store.save(state)
        self.after_commit()
        return state, True

    def _emit(self, db: AsyncSession, state: SessionState, *, urgent: bool = False) -> None:
        now = self.clock()
        kinds = emissions(state, now, self.update_interval_s, urgent=urgent)
        for kind in kinds:
            self.outbox.add(db, kind, state, now)
        mark_emitted(state, kinds, now)
