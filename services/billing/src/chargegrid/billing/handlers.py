"""What billing does with each session event: remember active sessions and their timeline
points, and turn a closed session into exactly one CDR with its cdr.created in the outbox.

Lookups (site time zone, token group) happen before the transaction, never inside it. The
event id is claimed in the same transaction as the writes, and `cdrs.session_id` is unique:
re-delivery, a second close of the same session, or two replicas racing all end with one
CDR (the loser's transaction fails and its retry finds the CDR).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.billing.clock import Clock, IdFactory
from chargegrid.billing.convert import cdr_proto, from_stamp
from chargegrid.billing.domain.cdr import Cdr
from chargegrid.billing.domain.tariffs import SessionKeys
from chargegrid.billing.domain.timeline import Observation, closed_timeline
from chargegrid.billing.lookups import UTC_NAME, Lookups
from chargegrid.billing.pricing import cost_of
from chargegrid.billing.store import cdrs, outbox
from chargegrid.billing.store import sessions as active
from chargegrid.platform.bus import EnvelopeFactory, claim_events, occurred_at, unpack
from chargegrid.platform.bus.topics import BILLING_EVENTS
from chargegrid.platform.logging import get_logger

CONSUMER_NAME = "billing.sessions"
log = get_logger(__name__)


SESSION_OPENED, SESSION_UPDATED, SESSION_CLOSED = (
    "session.opened",
    "session.updated",
    "session.closed",
)
#: The session event types billing reads (the consumer skips others by header, undecoded).
HANDLED = frozenset({SESSION_OPENED, SESSION_UPDATED, SESSION_CLOSED})


def _session_of(envelope: Envelope) -> spb.Session | None:
    """The session an event carries, or None for types billing has nothing to do with."""
    if envelope.type == SESSION_OPENED:
        s = unpack(envelope, spb.SessionOpened).session
    elif envelope.type == SESSION_UPDATED:
        s = unpack(envelope, spb.SessionUpdated).session
    elif envelope.type == SESSION_CLOSED:
        s = unpack(envelope, spb.SessionClosed).session
    else:
        return None
    return s if s.id else None


def energy(value: float) -> Decimal:
    """A proto double as the Decimal it was meant to be (shortest repr, never binary noise)."""
    return Decimal(repr(max(value, 0.0)))


def observation(s: spb.Session, at: datetime) -> Observation:
    return Observation(at, energy(s.energy_wh), int(s.charging_s), energy(s.power_w))


@dataclass
class SessionEvents:
    """The batch handler of session.events.v1 (`batch`), and of one event (`__call__`)."""

    sessions: async_sessionmaker[AsyncSession]
    lookups: Lookups
    clock: Clock
    new_id: IdFactory
    envelopes: EnvelopeFactory
    #: Called after a CDR committed (wakes the outbox publisher).
    on_cdr: Callable[[], None] = lambda: None
    #: Called after an update of an active session committed (CostUpdated to the station).
    on_update: Callable[[spb.Session], None] = lambda _: None
    #: Called once a session is billed.
    on_closed: Callable[[str], None] = lambda _: None

    async def __call__(self, envelope: Envelope, _record: object = None) -> None:
        """One event (tests, replays): a batch of one."""
        await self.batch([(envelope, _record)])

    async def batch(self, items: Sequence[tuple[Envelope, object]]) -> None:
        """A partition batch in one transaction: its event ids claimed in one statement,
        lookups made before it. Callbacks (cost updates, CDR published) run after commit."""
        wanted = [(envelope, s) for envelope, _ in items if (s := _session_of(envelope))]
        if not wanted:
            return
        prepared = [(envelope, s, await self._known(s)) for envelope, s in wanted]
        now = self.clock()
        after: list[Callable[[], None]] = []
        async with self.sessions() as session, session.begin():
            ids = [envelope.event_id for envelope, _, _ in prepared]
            fresh = await claim_events(session, CONSUMER_NAME, ids, now)
            for envelope, s, known in prepared:
                if envelope.event_id not in fresh:
                    continue
                fresh.discard(envelope.event_id)  # the same id twice in one batch counts once
                if envelope.type == SESSION_CLOSED:
                    after += await self._close(session, envelope, s, known, now)
                else:
                    after += await self._open_or_update(session, envelope, s, known, now)
        for callback in after:
            callback()

    def _at(self, envelope: Envelope, s: spb.Session) -> datetime:
        return from_stamp(s.updated_at) or occurred_at(envelope)

    async def _known(self, s: spb.Session) -> active.ActiveSession:
        """The session as stored, with site, time zone and group looked up where missing."""
        async with self.sessions() as session:
            stored = await active.get_active(session, s.id)
        site = s.site_id or (stored.site_id if stored else "")
        zone = stored.timezone if stored else None
        group = stored.token_group if stored else None
        if zone is None:
            found = await self.lookups.site_and_timezone(s.station_id, site)
            if found is not None:
                site, zone = found
        if group is None:
            group = await self.lookups.token_group(s.id_token.id)
        started = from_stamp(s.started_at) or (stored.started_at if stored else None)
        return active.ActiveSession(
            s.id,
            s.station_id,
            site,
            s.id_token.id,
            s.id_token.type,
            group,
            zone,
            started or from_stamp(s.updated_at) or self.clock(),
        )

    async def _open_or_update(
        self,
        session: AsyncSession,
        envelope: Envelope,
        s: spb.Session,
        known: active.ActiveSession,
        now: datetime,
    ) -> list[Callable[[], None]]:
        if await cdrs.by_session(session, s.id) is not None:
            return []  # a late update of a session already billed
        await active.upsert_active(session, known, now)
        if envelope.type == SESSION_UPDATED:
            await active.add_point(session, s.id, observation(s, self._at(envelope, s)))
            if s.status == spb.SESSION_STATUS_ACTIVE:
                return [lambda: self.on_update(s)]
        return []

    async def _close(
        self,
        session: AsyncSession,
        envelope: Envelope,
        s: spb.Session,
        known: active.ActiveSession,
        now: datetime,
    ) -> list[Callable[[], None]]:
        ended = from_stamp(s.ended_at) or occurred_at(envelope)
        started = min(known.started_at, ended)
        zone = known.timezone or UTC_NAME
        keys = SessionKeys(s.station_id, known.site_id, known.token_group or "")
        if await cdrs.by_session(session, s.id) is not None:
            return []
        total_wh = energy(s.energy_wh)
        # 0 charging seconds with energy means "not measured", not "never charged".
        reported = int(s.charging_s) if s.charging_s > 0 else None
        points = await active.points(session, s.id)
        # One computation for the priced timeline and the CDR's times (they must agree).
        timeline, times = closed_timeline(started, points, ended, total_wh, reported)
        cdr = Cdr(
            id=self.new_id(),
            session_id=s.id,
            station_id=s.station_id,
            site_id=known.site_id,
            id_token=s.id_token.id,
            id_token_type=s.id_token.type,
            started_at=started,
            ended_at=ended,
            energy_wh=total_wh,
            total_time_s=times.total_s,
            charging_time_s=times.charging_s,
            parking_time_s=times.parking_s,
            cost=await cost_of(session, keys, timeline, zone),
            timezone=zone,
            created_at=now,
        )
        await cdrs.add(session, cdr)
        event = self.envelopes.wrap(
            "cdr.created", s.station_id, pb.CdrCreated(cdr=cdr_proto(cdr)), occurred_at=now
        )
        await outbox.enqueue(session, BILLING_EVENTS, event, now)
        await active.forget(session, s.id)

        def billed() -> None:
            log.info(
                "cdr created", session_id=s.id, cdr_id=cdr.id, total=str(cdr.cost.total_incl_vat)
            )
            self.on_closed(s.id)
            self.on_cdr()

        return [billed]
