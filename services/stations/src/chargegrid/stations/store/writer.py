"""One writer at a time on SQLite, queued in the event loop rather than in SQLite.

SQLite lets one transaction write at a time. Writers that collide wait in its busy handler,
which sleeps in growing steps (up to 100 ms) and does not notice the lock coming free, and a
transaction that read before it writes can fail at once with "database is locked". In a
boot storm the registry's consumer (one transaction per partition batch, partitions
concurrently) and the boot registrar's group commits collide all the time. `one_writer`
queues them on an asyncio lock per engine instead, handed over the moment the last writer
commits. PostgreSQL takes row locks and needs none of this.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

_LOCKS: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()


def one_writer(sessions: async_sessionmaker[AsyncSession]) -> AbstractAsyncContextManager[object]:
    """Hold around a write transaction of the registry's hot writers."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _LOCKS.get(engine.sync_engine)
    if lock is None:
        lock = _LOCKS[engine.sync_engine] = asyncio.Lock()
    return lock
