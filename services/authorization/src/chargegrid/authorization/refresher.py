"""Keeps this replica's engine current with what other replicas wrote.

Every `interval_s` it reads the token and transaction rows written since the newest change
it has seen, minus an overlap that covers commit delays and clock skew between replicas;
re-reading a row is harmless because the engine ignores anything older than what it holds.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from chargegrid.authorization.domain import Clock
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.store import TokenStore
from chargegrid.authorization.transactions import TransactionStore
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
OVERLAP = timedelta(seconds=5)


class Refresher:
    def __init__(
        self,
        tokens: TokenStore,
        transactions: TransactionStore,
        engine: DecisionEngine,
        clock: Clock,
        interval_s: float = 1.0,
    ) -> None:
        self.tokens = tokens
        self.transactions = transactions
        self.engine = engine
        self.interval_s = interval_s
        self.watermark: datetime = clock()

    async def load(self) -> int:
        """Fill the engine from the database (at start)."""
        tokens = await self.tokens.load_all()
        active = await self.transactions.load_active()
        self.engine.load(tokens, active)
        stamps = [t.updated_at for t in tokens if t.updated_at]
        stamps += [t.updated_at for t in active if t.updated_at]
        if stamps:
            self.watermark = max(self.watermark, max(stamps))
        return len(tokens)

    async def poll_once(self) -> int:
        since = self.watermark - OVERLAP
        tokens = await self.tokens.changed_since(since)
        txs = await self.transactions.changed_since(since)
        applied = sum(self.engine.apply_token(t) for t in tokens)
        applied += sum(self.engine.apply_transaction(t) for t in txs)
        stamps = [t.updated_at for t in tokens if t.updated_at]
        stamps += [t.updated_at for t in txs if t.updated_at]
        if stamps:
            self.watermark = max(self.watermark, max(stamps))
        return applied

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.poll_once()
            except Exception as exc:
                log.warning("refresh from the database failed", error=repr(exc))
