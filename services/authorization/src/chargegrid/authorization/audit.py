"""The decision audit: every Authorize answer, queued in memory and written in batches.

Recording costs an append on the request path; a background task writes what is queued
every `flush_interval_s`. The queue is bounded: if the database stays away that long, the
oldest entries are dropped and counted rather than the service running out of memory.
Listing (newest first, keyset-paged on the row id) flushes first so a caller sees its own
decisions.
"""

from __future__ import annotations

import asyncio
import base64
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.authorization.domain import AuditEntry
from chargegrid.authorization.models import decisions
from chargegrid.platform.grpc import InvalidArgument
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
BATCH = 2000


@dataclass(frozen=True)
class DecisionFilter:
    station_id: str = ""
    id_token: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _page_after(page_token: str) -> int | None:
    if not page_token:
        return None
    try:
        return int(base64.urlsafe_b64decode(page_token.encode()).decode())
    except ValueError as exc:
        raise InvalidArgument("page_token is not one this service handed out") from exc


class DecisionAudit:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        flush_interval_s: float = 0.5,
        max_queued: int = 200_000,
    ) -> None:
        self.sessions = sessions
        self.flush_interval_s = flush_interval_s
        self._queue: deque[AuditEntry] = deque(maxlen=max_queued)
        self._lock = asyncio.Lock()
        self.dropped = 0
        self.written = 0

    def record(self, entry: AuditEntry) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(entry)

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def flush(self) -> int:
        """Write everything queued now; entries stay queued if the write fails."""
        async with self._lock:
            total = 0
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                try:
                    async with self.sessions() as session, session.begin():
                        await session.execute(decisions.insert(), [asdict(e) for e in batch])
                except Exception:
                    self._queue.extendleft(reversed(batch))
                    raise
                total += len(batch)
            self.written += total
            return total

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            try:
                await self.flush()
            except Exception as exc:
                log.warning("decision audit write failed; kept queued", error=repr(exc))

    async def list(
        self, where: DecisionFilter, page_size: int, page_token: str
    ) -> tuple[list[tuple[int, AuditEntry]], str]:
        await self.flush()
        query = select(decisions)
        if where.station_id:
            query = query.where(decisions.c.station_id == where.station_id)
        if where.id_token:
            query = query.where(decisions.c.id_token == where.id_token)
        if where.since is not None:
            query = query.where(decisions.c.at >= where.since)
        if where.until is not None:
            query = query.where(decisions.c.at < where.until)
        after = _page_after(page_token)
        if after is not None:
            query = query.where(decisions.c.id < after)
        query = query.order_by(decisions.c.id.desc()).limit(page_size + 1)
        async with self.sessions() as session:
            rows = list(await session.execute(query))
        found = [
            (
                int(row.id),
                AuditEntry(
                    at=row.at,
                    station_id=row.station_id,
                    id_token=row.id_token,
                    token_type=row.token_type,
                    purpose=row.purpose,
                    transaction_id=row.transaction_id,
                    status=row.status,
                    reason=row.reason,
                ),
            )
            for row in rows
        ]
        next_token = ""
        if len(found) > page_size:
            found = found[:page_size]
            next_token = base64.urlsafe_b64encode(str(found[-1][0]).encode()).decode()
        return found, next_token
