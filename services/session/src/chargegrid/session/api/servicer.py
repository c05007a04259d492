"""The Sessions servicer: proto in, validated, read or allocated, proto out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.session.v1 import session_pb2_grpc as pb_grpc
from chargegrid.platform.grpc import FailedPrecondition, InvalidArgument, NotFound
from chargegrid.session.api import queries
from chargegrid.session.api.paging import encode_token, page_of
from chargegrid.session.api.validation import (
    allocation,
    filters,
    parse_time,
    session_id,
    session_id_from,
    start_attempt,
    status_filter,
    time_window,
)
from chargegrid.session.clock import Clock
from chargegrid.session.convert import sample_message, session_message
from chargegrid.session.domain.model import EndSession, SessionState
from chargegrid.session.ids import TransactionIds
from chargegrid.session.start_ids import StartIds
from chargegrid.session.watch import SessionHub

SERVICE_NAME = "chargegrid.api.session.v1.Sessions"
SESSIONS_LISTING = "sessions"
SAMPLES_LISTING = "samples"


async def _cannot_end(_command: EndSession) -> tuple[SessionState | None, bool]:
    raise FailedPrecondition("this replica does not end sessions")


@dataclass
class ApiDeps:
    sessions: async_sessionmaker[AsyncSession]
    ids: TransactionIds
    hub: SessionHub
    #: The EndSession command handler (handlers.SessionEvents.end_session) and its clock.
    end_session: Callable[[EndSession], Awaitable[tuple[SessionState | None, bool]]] = _cannot_end
    clock: Clock | None = None
    #: The ids of retried StartTransactions (start_ids.py), over `ids`.
    starts: StartIds = field(init=False)

    def __post_init__(self) -> None:
        self.starts = StartIds(self.ids, self.sessions)


class SessionsService(pb_grpc.SessionsServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self.deps = deps

    async def AllocateTransactionId(
        self, request: pb.AllocateTransactionIdRequest, context: Any
    ) -> pb.AllocateTransactionIdReply:
        station_id, connector_id = allocation(request)
        allocated = await self.deps.starts.allocate(
            station_id, connector_id, start_attempt(request)
        )
        return pb.AllocateTransactionIdReply(transaction_id=allocated)

    async def GetSession(self, request: pb.GetSessionRequest, context: Any) -> pb.Session:
        session_id = session_id_from(request)
        async with self.deps.sessions() as db:
            state = await queries.find_session(db, session_id)
        if state is None:
            raise NotFound(f"no session {session_id!r}")
        return session_message(state)

    async def EndSession(self, request: pb.EndSessionRequest, context: Any) -> pb.Session:
        session_id = session_id_from(request)
        if self.deps.clock is None:
            raise FailedPrecondition("this replica does not end sessions")
        state, ended = await self.deps.end_session(EndSession(session_id, self.deps.clock()))
        if state is None:
            raise NotFound(f"no session {session_id!r}")
        if not ended:
            raise FailedPrecondition(f"session {session_id!r} is already {state.status}")
        return session_message(state)

    async def ListSessions(
        self, request: pb.ListSessionsRequest, context: Any
    ) -> pb.ListSessionsReply:
        page = page_of(SESSIONS_LISTING, request.page)
        since, until = time_window(request)
        station_id, site_id = filters(request.station_id, request.site_id)
        wanted = queries.SessionFilter(
            station_id=station_id,
            site_id=site_id,
            id_token=request.id_token,
            status=status_filter(request.status),
            since=since,
            until=until,
        )
        after = None
        if page.after is not None:
            if len(page.after) != 2 or not isinstance(page.after[1], str):
                raise InvalidArgument(f"page_token is not a token of {SESSIONS_LISTING}")
            after = (parse_time(page.after[0], SESSIONS_LISTING), page.after[1])
        async with self.deps.sessions() as db:
            states, total = await queries.list_sessions(db, wanted, page.size, after)
        reply = pb.ListSessionsReply(total=total)
        reply.sessions.extend(session_message(s) for s in states[: page.size])
        if len(states) > page.size:
            last = states[page.size - 1]
            reply.next_page_token = encode_token(
                SESSIONS_LISTING, [last.started_at.isoformat(), last.id]
            )
        return reply

    async def ActiveSessions(
        self, request: pb.ActiveSessionsRequest, context: Any
    ) -> pb.ListSessionsReply:
        station_id, site_id = filters(request.station_id, request.site_id)
        async with self.deps.sessions() as db:
            states, total = await queries.active_sessions(db, site_id, station_id)
        reply = pb.ListSessionsReply(total=total)
        reply.sessions.extend(session_message(s) for s in states)
        return reply

    async def MeterSamples(
        self, request: pb.MeterSamplesRequest, context: Any
    ) -> pb.MeterSamplesReply:
        session_id(request.session_id)
        page = page_of(SAMPLES_LISTING, request.page)
        after = None
        if page.after is not None:
            if len(page.after) != 2 or not isinstance(page.after[1], int):
                raise InvalidArgument(f"page_token is not a token of {SAMPLES_LISTING}")
            after = (parse_time(page.after[0], SAMPLES_LISTING), page.after[1])
        async with self.deps.sessions() as db:
            if await queries.find_session(db, request.session_id) is None:
                raise NotFound(f"no session {request.session_id!r}")
            rows = await queries.samples_page(
                db, request.session_id, request.measurand, page.size, after
            )
        reply = pb.MeterSamplesReply()
        reply.samples.extend(sample_message(sample) for _, sample in rows[: page.size])
        if len(rows) > page.size:
            last_id, last = rows[page.size - 1]
            reply.next_page_token = encode_token(SAMPLES_LISTING, [last.at.isoformat(), last_id])
        return reply

    async def WatchSessions(
        self, request: pb.WatchSessionsRequest, context: Any
    ) -> AsyncIterator[pb.SessionChange]:
        filters(request.station_id, request.site_id)
        # Subscribe first: a change between the snapshot and the subscription is not lost.
        subscription = self.deps.hub.subscribe(request.station_id, request.site_id)
        try:
            if request.snapshot:
                async with self.deps.sessions() as db:
                    states, _ = await queries.active_sessions(
                        db, request.site_id, request.station_id
                    )
                for state in states:
                    yield pb.SessionChange(kind="snapshot", session=session_message(state))
            while True:
                yield await subscription.next()
        finally:
            self.deps.hub.unsubscribe(subscription)
