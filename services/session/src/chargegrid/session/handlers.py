"""Event handlers: one transaction per batch of events, deciding state and outgoing events.

A batch (a partition's poll, or one event) claims its event ids in one statement, loads
the sessions it touches in one query, then applies the domain rules event by event in
order, exactly as one event at a time would: the session changes, samples, energy
recounts when a reading came out of order, the sessions a fact shows lost (domain/closing.py:
a 1.6 boot, a new transaction on the outlet), and the session events decided into the
outbox (inserted together at the end). All of it commits together; the publisher is woken
only when the batch decided an event. Every `YIELD_EVERY` events the loop lets the event
loop run, so the gRPC calls the gateway waits on (transaction ids) are answered while a
large batch is applied; on SQLite a batch is a background writer (platform writer_gate)
that lets those calls' writes go first. A re-delivered event finds
its id claimed and changes nothing; a crash before commit leaves nothing behind, so the
redelivery does the whole thing once. `after_commit` wakes the publisher. An Available /
Faulted status is only marked (marks.py); `sweep`, run on a timer, closes what the outlet
still holds once the grace for a normal Ended is over. A 2.x boot is handed to
`after_resumed_boot` once committed (the station is asked about its transactions in the
background, transaction_status.py) and `close_not_ongoing` closes what it says it lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.common.v1.common_pb2 import OCPP_VERSION_21, OCPP_VERSION_201
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1.events_pb2 import StationBooted
from chargegrid.platform.bus import Delivered, claim_events, occurred_at, unpack
from chargegrid.platform.writer_gate import one_writer
from chargegrid.session.clock import Clock
from chargegrid.session.convert import fact_of, outlet_freed_of, seq_gap_of
from chargegrid.session.domain.closing import (
    close_by_operator,
    close_for_freed_outlet,
    close_for_marks,
    close_for_new_transaction,
    close_for_transaction_status,
)
from chargegrid.session.domain.emission import CLOSED, emissions, mark_emitted
from chargegrid.session.domain.lifecycle import (
    apply,
    interrupt,
    new_session,
    series_readings,
    settle_energy,
)
from chargegrid.session.domain.model import (
    INTERRUPTED,
    Ended,
    EndSession,
    OutletFreed,
    Rebooted,
    SeqGap,
    SessionState,
    Started,
    TransactionFact,
    TransactionStatusReported,
    Updated,
    session_id_of,
)
from chargegrid.session.lost_metrics import note_lost_close
from chargegrid.session.marks import OutletMarks
from chargegrid.session.outbox import Outbox
from chargegrid.session.sites import SiteLookup, no_sites
from chargegrid.session.store import SessionStore

CONSUMER = "session"
BOOTED = "station.booted"
STATUS_CHANGED = "station.status_changed"
TRANSACTION_TYPES = frozenset({"transaction.started", "transaction.updated", "transaction.ended"})
SEQ_GAP = "transaction.seq_gap"
#: What the consumer decodes; every other event of its topics is skipped by header.
EVENT_TYPES = TRANSACTION_TYPES | {BOOTED, STATUS_CHANGED, SEQ_GAP}
#: Outlet marks put in force per sweep transaction.
SWEEP_BATCH = 200
#: Events applied between two chances for the event loop to serve others (gRPC calls).
YIELD_EVERY = 50
#: 2.x stations resume their transactions after a boot (and report them), 1.6 ones do not.
RESUMING_VERSIONS = frozenset({OCPP_VERSION_201, OCPP_VERSION_21})

#: An event this service acts on with what it says: a transaction fact, a freed outlet,
#: a seqNo gap, or None for a boot.
Work = tuple[Envelope, TransactionFact | OutletFreed | SeqGap | None]


def _nothing() -> None:
    return None


def _no_checks(station_id: str, booted_at: datetime) -> None:
    return None


def _work_of(envelopes: Sequence[Envelope]) -> list[Work]:
    """The events this service acts on, each with what it says."""
    work: list[Work] = []
    for envelope in envelopes:
        if envelope.type == BOOTED:
            work.append((envelope, None))
        elif envelope.type == STATUS_CHANGED:
            freed = outlet_freed_of(envelope)
            if freed is not None:
                work.append((envelope, freed))
        elif envelope.type == SEQ_GAP:
            gap = seq_gap_of(envelope)
            if gap is not None:
                work.append((envelope, gap))
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
    #: Called after commit with each 2.x boot (station id, boot time) the batch handled.
    after_resumed_boot: Callable[[str, datetime], None] = _no_checks

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
        stations = {e.station_id for e, fact in work if isinstance(fact, TransactionFact)}
        sites = {station: await self.sites(station) for station in stations}
        now = self.clock()
        resumed: list[Rebooted] = []
        # A boot storm: the marks of stations whose only events here are boots are written
        # together at the end (nothing in the batch reads them), not one locked row each.
        others = {e.station_id for e, fact in work if fact is not None}
        only_booted = {e.station_id for e, fact in work if fact is None} - others
        deferred_marks: list[Rebooted] = []
        async with one_writer(self.sessions), self.sessions() as db, db.begin():
            fresh = await claim_events(db, CONSUMER, [e.event_id for e, _ in work], now)
            store = SessionStore(db)
            await store.load(
                session_id_of(e.station_id, f.transaction_id)
                for e, f in work
                if isinstance(f, (Started, Updated, Ended, SeqGap))
            )
            await store.load_active(
                e.station_id for e, f in work if f is None or isinstance(f, Started)
            )
            for applied, (envelope, fact) in enumerate(work, 1):
                if applied % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                if envelope.event_id not in fresh:
                    continue
                fresh.discard(envelope.event_id)  # twice in one batch: applied once
                if fact is None:
                    reboot = self._rebooted(envelope)
                    if reboot.resumes_transactions:
                        resumed.append(reboot)
                    elif reboot.station_id in only_booted:
                        deferred_marks.append(reboot)
                    else:
                        await OutletMarks(db).note(reboot, self.clock())
                    await self._interrupt(db, store, reboot)
                elif isinstance(fact, OutletFreed):
                    await OutletMarks(db).note(fact, now)
                elif isinstance(fact, SeqGap):
                    await self._on_seq_gap(store, envelope.station_id, fact)
                else:
                    site_id = sites[envelope.station_id]
                    await self._on_transaction(db, store, envelope.station_id, fact, site_id)
            await OutletMarks(db).note_boots(deferred_marks, now)
            emitted = await self._flush(db, store)
        if emitted:  # most batches of meter values decide none: nothing to publish
            self.after_commit()
        for reboot in resumed:
            self.after_resumed_boot(reboot.station_id, reboot.at)

    async def _on_transaction(
        self,
        db: AsyncSession,
        store: SessionStore,
        station_id: str,
        fact: TransactionFact,
        site_id: str,
    ) -> None:
        state = await store.get(session_id_of(station_id, fact.transaction_id))
        opens = state is None or isinstance(fact, Started)
        if state is None:
            state = new_session(station_id, fact, site_id)
        token_before = state.id_token
        state.site_id = state.site_id or site_id
        apply(state, fact)
        store.save(state)
        store.add_samples(state.id, fact.samples)
        if state.needs_energy_recount:
            stored = await store.register_readings(state.id)
            settle_energy(state, series_readings(state, stored))
        if opens:
            close_for_marks(state, await OutletMarks(db).in_force(station_id))
        self._emit(db, state, urgent=state.id_token != token_before)
        store.save(state)
        if opens:
            await self._close_displaced(db, store, station_id, fact)

    @staticmethod
    async def _on_seq_gap(store: SessionStore, station_id: str, gap: SeqGap) -> None:
        """E12: count the events the station's seqNos say are missing on the session (shown
        with it, so an operator knows its figures may be incomplete); a gap for a
        transaction with no session yet changes nothing."""
        state = await store.get(session_id_of(station_id, gap.transaction_id))
        if state is not None and gap.missing:
            state.missing_events += gap.missing
            store.save(state)

    async def _close_displaced(
        self, db: AsyncSession, store: SessionStore, station_id: str, fact: TransactionFact
    ) -> None:
        """A new transaction on an outlet ends the one the station lost there."""
        for other in await store.active_of_station(station_id):
            if close_for_new_transaction(other, fact):
                self._emit(db, other)
                store.save(other)

    @staticmethod
    def _rebooted(envelope: Envelope) -> Rebooted:
        booted = unpack(envelope, StationBooted)
        return Rebooted(
            envelope.station_id,
            occurred_at(envelope),
            resumes_transactions=booted.ocpp_version in RESUMING_VERSIONS,
        )

    async def _interrupt(self, db: AsyncSession, store: SessionStore, reboot: Rebooted) -> None:
        """A boot interrupts what the station had running (1.6: lost; 2.x: to be asked)."""
        for state in await store.active_of_station(reboot.station_id):
            if interrupt(state, reboot):
                self._emit(db, state)
                store.save(state)

    async def sweep(self, grace_s: float, limit: int = SWEEP_BATCH) -> int:
        """Close what outlets reported free `grace_s` ago still hold (the Ended of a normal
        stop had that long to arrive); the number of marks put in force."""
        now = self.clock()
        closed = False
        async with one_writer(self.sessions), self.sessions() as db, db.begin():
            marks, store = OutletMarks(db), SessionStore(db)
            due = await marks.due(now - timedelta(seconds=grace_s), limit)
            for mark in due:
                for state in await store.active_of_station(mark.station_id):
                    if isinstance(mark, OutletFreed) and close_for_freed_outlet(state, mark):
                        self._emit(db, state)
                        store.save(state)
                        closed = True
                if isinstance(mark, OutletFreed):
                    await marks.swept(mark)
            await self._flush(db, store)
        if closed:
            self.after_commit()
        return len(due)

    async def end_session(self, command: EndSession) -> tuple[SessionState | None, bool]:
        """The operator's close: the session (None if there is none) and whether this
        call closed it (False when it was no longer active)."""
        async with one_writer(self.sessions, urgent=True), self.sessions() as db, db.begin():
            store = SessionStore(db)
            state = await store.get(command.session_id)
            if state is None or not close_by_operator(state, command):
                return state, False
            self._emit(db, state)
            store.save(state)
            await self._flush(db, store)
        self.after_commit()
        return state, True

    async def close_not_ongoing(self, report: TransactionStatusReported) -> bool:
        """Close a session its station, asked after a boot, says it lost; whether it did."""
        async with one_writer(self.sessions), self.sessions() as db, db.begin():
            store = SessionStore(db)
            state = await store.get(report.session_id)
            if state is None or not close_for_transaction_status(state, report):
                return False
            self._emit(db, state)
            store.save(state)
            await self._flush(db, store)
        self.after_commit()
        return True

    async def _flush(self, db: AsyncSession, store: SessionStore) -> int:
        """Before commit: the batch's session rows and samples, then its outbox rows (how
        many)."""
        await store.flush()
        return await self.outbox.flush(db)

    def _emit(self, db: AsyncSession, state: SessionState, *, urgent: bool = False) -> None:
        now = self.clock()
        kinds = emissions(state, now, self.update_interval_s, urgent=urgent)
        if CLOSED in kinds and state.status == INTERRUPTED:
            note_lost_close(db, state.stop_reason)
        for kind in kinds:
            self.outbox.add(db, kind, state, now)
        mark_emitted(state, kinds, now)
