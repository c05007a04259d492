"""The outbox: pushes to partners, stored before they are sent, delivered by one worker.

`Outbox.enqueue` stores a push (in the caller's transaction when given one, so an event and
the pushes it causes commit together). `OutboxWorker` sends, per partner and object key,
strictly in id order: the next push of an object waits until the one before it was
acknowledged (HTTP 2xx and OCPI 1xxx). A failure is retried with exponential backoff
(`base * 2**attempts`, capped) and a partner that fails is left alone for the rest of the
sweep, so a partner that is down gets everything, in order, once it is back. A push is marked
delivered after its acknowledgement: a crash between the two resends it once, which PUT and
PATCH of whole objects make harmless (sessions and CDRs use their ids as keys).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.logging import get_logger
from chargegrid.roaming.client import OcpiClient, PartnerCallFailed, Party
from chargegrid.roaming.clock import Clock
from chargegrid.roaming.models import OutboxRow
from chargegrid.roaming.partners import REGISTERED, Partner, PartnerStore, UnknownPartner

log = get_logger(__name__)
METHODS = {"PUT", "PATCH", "POST", "DELETE"}
#: A path that is a whole URL (a CommandResult's response_url) is called as it is.
ABSOLUTE = re.compile(r"^https?://")


@dataclass(frozen=True)
class PartnerBacklog:
    partner_id: str
    backlog: int
    failing: int
    oldest_pending_at: datetime | None
    last_push_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        self.woken = asyncio.Event()

    def _row(
        self, partner_id: str, module: str, object_key: str, method: str, path: str, body: Any
    ) -> OutboxRow:
        if method not in METHODS:
            raise ValueError(f"method {method!r} is not one of {sorted(METHODS)}")
        if not object_key or len(object_key) > 200:
            raise ValueError("object_key must have 1 to 200 characters")
        now = self.clock()
        return OutboxRow(
            partner_id=partner_id,
            module=module,
            object_key=object_key,
            method=method,
            path=path,
            body=None if body is None else json.dumps(body, separators=(",", ":")),
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )

    async def enqueue(
        self,
        partner_id: str,
        module: str,
        object_key: str,
        method: str,
        path: str,
        body: Any,
        *,
        session: AsyncSession | None = None,
    ) -> None:
        """Store one push; `path` is appended to the partner's `module` RECEIVER URL (or is
        the whole URL when it starts with http:// or https://)."""
        row = self._row(partner_id, module, object_key, method, path, body)
        if session is not None:
            session.add(row)
            self.wake_after_commit(session)
        else:
            async with self.sessions.begin() as own:
                own.add(row)
            self.wake()

    async def enqueue_all(
        self,
        partners: list[Partner],
        module: str,
        object_key: str,
        method: str,
        path: str,
        body: Any,
        *,
        session: AsyncSession,
    ) -> int:
        """The same push to every partner given that may receive `module`; how many."""
        count = 0
        for partner in partners:
            if partner.status == REGISTERED and partner.may_use(module):
                session.add(self._row(partner.id, module, object_key, method, path, body))
                count += 1
        if count:
            self.wake_after_commit(session)
        return count

    def wake(self) -> None:
        self.woken.set()

    def wake_after_commit(self, session: AsyncSession) -> None:
        """Wake the worker once the caller's transaction committed (before, it would find
        nothing and sleep a whole poll interval)."""
        sync_session = session.sync_session
        if not event.contains(sync_session, "after_commit", self._committed):
            event.listen(sync_session, "after_commit", self._committed, once=True)

    def _committed(self, _session: object) -> None:
        self.woken.set()

    async def prune(self, keep: timedelta) -> int:
        """Forget pushes delivered longer than `keep` ago; how many."""
        before = self.clock() - keep
        async with self.sessions.begin() as session:
            result = await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.delivered_at.is_not(None), OutboxRow.delivered_at < before
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def backlog(self) -> dict[str, PartnerBacklog]:
        """Per partner: pending pushes, failing ones, last push and last error."""
        async with self.sessions() as session:
            pending = (
                await session.execute(
                    select(
                        OutboxRow.partner_id,
                        func.count(),
                        func.sum(case((OutboxRow.attempts > 0, 1), else_=0)),
                        func.min(OutboxRow.created_at),
                    )
                    .where(OutboxRow.delivered_at.is_(None))
                    .group_by(OutboxRow.partner_id)
                )
            ).all()
            delivered = (
                await session.execute(
                    select(OutboxRow.partner_id, func.max(OutboxRow.delivered_at)).group_by(
                        OutboxRow.partner_id
                    )
                )
            ).all()
            errors = (
                await session.execute(
                    select(OutboxRow.partner_id, OutboxRow.last_error, OutboxRow.last_attempt_at)
                    .where(OutboxRow.last_error.is_not(None))
                    .order_by(OutboxRow.last_attempt_at.desc())
                )
            ).all()
        found: dict[str, PartnerBacklog] = {}
        last_push = {p: at for p, at in delivered}
        last_error: dict[str, tuple[str | None, datetime | None]] = {}
        for partner_id, text, at in errors:
            last_error.setdefault(partner_id, (text, at))
        for partner_id in set(last_push) | {row[0] for row in pending} | set(last_error):
            counts = next((row for row in pending if row[0] == partner_id), None)
            failure = last_error.get(partner_id)
            found[partner_id] = PartnerBacklog(
                partner_id=partner_id,
                backlog=int(counts[1]) if counts else 0,
                failing=int(counts[2] or 0) if counts else 0,
                oldest_pending_at=counts[3] if counts else None,
                last_push_at=last_push.get(partner_id),
                last_error=failure[0] if failure else None,
                last_error_at=failure[1] if failure else None,
            )
        return found


Delivered = Callable[[OutboxRow, datetime], Awaitable[None]]


class OutboxWorker:
    """The one sender of the outbox (run it in one process: the chart runs one replica)."""

    def __init__(
        self,
        outbox: Outbox,
        partners: PartnerStore,
        client: OcpiClient,
        *,
        poll_interval_s: float = 1.0,
        base_backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        batch_size: int = 200,
        on_delivered: Delivered | None = None,
    ) -> None:
        self.outbox = outbox
        self.partners = partners
        self.client = client
        self.poll_interval_s = poll_interval_s
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self.batch_size = batch_size
        self.on_delivered = on_delivered
        self._stopping = asyncio.Event()

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_backoff_s, self.base_backoff_s * 2 ** (attempts - 1)))

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = await self.sweep()
            except Exception as exc:  # the database was away: try again at the next tick
                log.warning("outbox sweep failed", error=repr(exc))
                sent = 0
            if sent >= self.batch_size:
                continue
            self.outbox.woken.clear()
            waiter = asyncio.ensure_future(self.outbox.woken.wait())
            stopper = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=self.poll_interval_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            waiter.cancel()
            stopper.cancel()

    async def stop(self) -> None:
        self._stopping.set()

    async def _pending(self) -> list[OutboxRow]:
        async with self.outbox.sessions() as session:
            statement = (
                select(OutboxRow)
                .where(OutboxRow.delivered_at.is_(None))
                .order_by(OutboxRow.id)
                .limit(self.batch_size)
            )
            return list((await session.scalars(statement)).all())

    async def sweep(self) -> int:
        """Send what is due; return how many pushes were delivered."""
        rows = await self._pending()
        by_partner: OrderedDict[str, OrderedDict[str, list[OutboxRow]]] = OrderedDict()
        for row in rows:
            keys = by_partner.setdefault(row.partner_id, OrderedDict())
            keys.setdefault(row.object_key, []).append(row)
        results = await asyncio.gather(
            *(self._send_partner(pid, queues) for pid, queues in by_partner.items())
        )
        return sum(results)

    async def _send_partner(self, partner_id: str, queues: dict[str, list[OutboxRow]]) -> int:
        try:
            partner = await self.partners.get(partner_id)
        except UnknownPartner:
            partner = None
        sent = 0
        for queue in queues.values():
            for row in queue:
                now = self.outbox.clock()
                if row.next_attempt_at > now:
                    break  # this object's next push waits for its retry time
                error, partner_down = await self._deliver(partner, row)
                await self._record(row, error, now)
                if error is not None:
                    if partner_down:
                        return sent  # unreachable or unusable: its other objects wait too
                    break
                sent += 1
        return sent

    async def _deliver(self, partner: Partner | None, row: OutboxRow) -> tuple[str | None, bool]:
        """(error or None, whether the whole partner is unusable for now)."""
        if partner is None:
            return "partner no longer exists", True
        if partner.status != REGISTERED or not partner.their_token:
            return f"partner is {partner.status}, not REGISTERED", True
        url = row.path if ABSOLUTE.match(row.path) else None
        if url is None:
            base = partner.endpoint(row.module, "RECEIVER")
            if base is None:
                return f"partner has no {row.module} RECEIVER endpoint", False
            url = base.rstrip("/") + row.path
        body = None if row.body is None else json.loads(row.body)
        try:
            await self.client.call(
                row.method,
                url,
                partner.their_token,
                body,
                to=Party(partner.country_code, partner.party_id),
            )
        except PartnerCallFailed as exc:
            return str(exc)[:2000], exc.partner_down
        return None, False

    async def _record(self, row: OutboxRow, error: str | None, now: datetime) -> None:
        async with self.outbox.sessions.begin() as session:
            stored = await session.get(OutboxRow, row.id)
            if stored is None:
                return
            stored.last_attempt_at = now
            if error is None:
                stored.delivered_at = self.outbox.clock()
            else:
                stored.attempts += 1
                stored.last_error = error
                stored.next_attempt_at = now + self.backoff(stored.attempts)
                log.info("push failed", partner=row.partner_id, outbox_id=row.id, error=error)
            row.attempts, row.next_attempt_at = stored.attempts, stored.next_attempt_at
        if error is None and self.on_delivered is not None:
            await self.on_delivered(row, self.outbox.clock())
