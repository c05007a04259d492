"""One writer at a time on SQLite, queued in the event loop rather than in SQLite.

SQLite lets one transaction write at a time. Writers that collide wait in its busy handler,
which sleeps in growing steps (up to 100 ms) and does not notice the lock coming free, and a
transaction that read before it writes can fail at once with "database is locked". In a
boot storm the stations registry's consumer (one transaction per partition batch, partitions
concurrently) and its boot registrar's group commits collide all the time, as do the session
service's consumer batches and the transaction ids the gateway waits on. `one_writer` queues
them in the event loop instead, handed over the moment the last writer commits, and an urgent
writer (a decision the gateway is waiting on, with a deadline) goes ahead of every waiting
background writer (the consumer's batches, which only delay their commit).
PostgreSQL takes row locks and needs none of this.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


class WriterGate:
    """A lock with two queues: urgent waiters are handed the lock before background ones,
    each queue in arrival order."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._background: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def locked(self) -> bool:
        return self._held

    @contextlib.asynccontextmanager
    async def hold(self, *, urgent: bool) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._held and not self._urgent and (urgent or not self._background):
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._background
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed over just as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # already passed over by a release
                    queue.remove(waiter)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._background):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the lock stays held, now by that waiter
                    return
        self._held = False


_GATES: WeakKeyDictionary[Engine, WriterGate] = WeakKeyDictionary()


def one_writer(
    sessions: async_sessionmaker[AsyncSession], *, urgent: bool = False
) -> AbstractAsyncContextManager[object]:
    """Hold around a write transaction of a service's hot writers; `urgent` for one a
    caller is waiting on with a deadline. A no-op on anything but SQLite."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    gate = _GATES.get(engine.sync_engine)
    if gate is None:
        gate = _GATES[engine.sync_engine] = WriterGate()
    return gate.hold(urgent=urgent)
