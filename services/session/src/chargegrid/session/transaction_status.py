"""After a 2.x station boots, ask it about each session still active there (E14).

A 2.0.1 / 2.1 station resumes its transactions after a boot and reports them, so the boot
alone closes nothing. One it lost would stay open until its EVSE reports Available; asking
settles it sooner: GetTransactionStatus answered "not ongoing, nothing queued" closes the
session `interrupted` at the boot (stop reason NotOngoing, `SessionEvents.close_not_ongoing`,
the outbox as every other close, so billing makes one CDR).

Best effort and never in the consumer's way: the handler hands over boots after commit and
returns; a bounded queue (a full one drops and counts) feeds a few workers; every call has a
deadline. Stations offline, answering NotImplemented/NotSupported, or failing are skipped and
counted in `chargegrid_session_transaction_status_checks_total{result}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.logging import get_logger
from chargegrid.session.domain.model import ACTIVE, TransactionStatusReported
from chargegrid.session.models import SessionRow
from chargegrid.session.station_query import StationOffline, StationQuery, StatusNotSupported

log = get_logger(__name__)

CHECKS = Counter(
    "chargegrid_session_transaction_status_checks_total",
    "GetTransactionStatus asked of 2.x stations after a boot, by result.",
    ["result"],
)
#: closed; ongoing / queued: left open; already_closed: another rule closed it meanwhile;
#: offline / unsupported: the station's other sessions are not asked; failed: timeout, error.
RESULTS = (
    "closed",
    "ongoing",
    "queued",
    "already_closed",
    "offline",
    "unsupported",
    "failed",
    "dropped",
)
_COUNT = {name: CHECKS.labels(result=name) for name in RESULTS}

Close = Callable[[TransactionStatusReported], Awaitable[bool]]


class TransactionStatusChecks:
    """Queue of boots to ask about, and the workers that ask; see the module docstring."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        station: StationQuery,
        close: Close,
        *,
        max_pending: int = 1000,
        workers: int = 4,
    ) -> None:
        self.sessions = sessions
        self.station = station
        self.close = close
        self.workers = workers
        self._queue: asyncio.Queue[tuple[str, datetime]] = asyncio.Queue(max_pending)

    def booted(self, station_id: str, booted_at: datetime) -> None:
        """A 2.x boot was committed; returns at once."""
        try:
            self._queue.put_nowait((station_id, booted_at))
        except asyncio.QueueFull:
            _COUNT["dropped"].inc()
            log.warning("transaction status check dropped", station_id=station_id)

    async def run(self) -> None:
        """The workers, until cancelled."""
        async with asyncio.TaskGroup() as group:
            for _ in range(self.workers):
                group.create_task(self._work())

    async def _work(self) -> None:
        while True:
            station_id, booted_at = await self._queue.get()
            try:
                await self.check(station_id, booted_at)
            except Exception as exc:  # the database away: this boot is not asked about
                _COUNT["failed"].inc()
                log.warning(
                    "transaction status check failed", station_id=station_id, error=repr(exc)
                )
            finally:
                self._queue.task_done()

    async def idle(self) -> None:
        """Wait until every boot handed over so far was asked about."""
        await self._queue.join()

    async def check(self, station_id: str, booted_at: datetime) -> None:
        """Ask about each session active on the station that started before its boot."""
        for session_id, transaction_id in await self._running_before(station_id, booted_at):
            result = await self._ask(station_id, session_id, transaction_id, booted_at)
            _COUNT[result].inc()
            if result in ("offline", "unsupported"):
                return  # the station's other transactions would answer the same

    async def _ask(
        self, station_id: str, session_id: str, transaction_id: str, booted_at: datetime
    ) -> str:
        try:
            status = await self.station.transaction_status(station_id, transaction_id)
        except StationOffline:
            return "offline"
        except StatusNotSupported:
            return "unsupported"
        except Exception as exc:  # a timeout, an unreadable answer: leave the session be
            log.info("transaction status not known", station_id=station_id, error=repr(exc))
            return "failed"
        if status.messages_in_queue:
            return "queued"
        if status.ongoing:
            return "ongoing"
        report = TransactionStatusReported(
            session_id, booted_at, ongoing=False, messages_in_queue=False
        )
        return "closed" if await self.close(report) else "already_closed"

    async def _running_before(self, station_id: str, booted_at: datetime) -> list[tuple[str, str]]:
        query = select(SessionRow.id, SessionRow.transaction_id).where(
            SessionRow.station_id == station_id,
            SessionRow.status == ACTIVE,
            SessionRow.started_at < booted_at,
        )
        async with self.sessions() as db:
            return [(row.id, row.transaction_id) for row in await db.execute(query)]
