"""CDRs of tokens no partner is known for (yet): kept, and sent once the token's partner is.

Billing's CDR can arrive before the token that makes it roaming (the partner pushes it
later, a pull brings it, a real-time answer is remembered) or while its partner cannot
receive CDRs (suspended, re-registering). Such a CDR is stored whole, not dropped; every
`interval_s` (and soon after a token is written) the ones whose token now has a partner are
sent through `Flows` as any CDR, exactly once. Those nobody claims within `retention` were
not roaming (our own drivers' CDRs) and are pruned, with a count in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import delete, select

from chargegrid.api.billing.v1 import billing_pb2 as bpb
from chargegrid.platform.logging import get_logger
from chargegrid.roaming.flows.pushes import Flows
from chargegrid.roaming.flows.rows import UnownedCdrRow
from chargegrid.roaming.token_models import PartnerTokenRow

log = get_logger(__name__)


class UnownedCdrs:
    def __init__(self, flows: Flows, retention: timedelta, batch_size: int = 200) -> None:
        self.flows = flows
        self.retention = retention
        self.batch_size = batch_size
        self.woken = asyncio.Event()

    def wake(self) -> None:
        """A token was written: look for its CDRs now rather than at the next round."""
        self.woken.set()

    async def resolve(self) -> int:
        """Send the kept CDRs whose token now belongs to a partner that takes CDRs; how many."""
        async with self.flows.sessions() as session:
            rows = (
                await session.scalars(
                    select(UnownedCdrRow)
                    .where(UnownedCdrRow.uid.in_(select(PartnerTokenRow.uid)))
                    .order_by(UnownedCdrRow.created_at)
                    .limit(self.batch_size)
                )
            ).all()
        sent = 0
        for row in rows:
            cdr = bpb.Cdr.FromString(row.cdr)
            owner = await self.flows.owner(cdr.id_token.id, "cdrs")
            if owner is None:
                continue  # its partner cannot take CDRs now: a later round
            async with self.flows.sessions.begin() as session:
                sent += await self.flows.cdr(session, cdr, owner)
                await session.execute(
                    delete(UnownedCdrRow).where(UnownedCdrRow.cdr_id == row.cdr_id)
                )
        if sent:
            log.info("CDRs sent once their token's partner was known", cdrs=sent)
        return sent

    async def prune(self) -> int:
        before = self.flows.clock() - self.retention
        async with self.flows.sessions.begin() as session:
            result = await session.execute(
                delete(UnownedCdrRow).where(UnownedCdrRow.created_at < before)
            )
        pruned = int(getattr(result, "rowcount", 0) or 0)
        if pruned:
            log.info("CDRs no partner claimed pruned (not roaming)", cdrs=pruned)
        return pruned

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                await self.resolve()
                await self.prune()
            except Exception as exc:  # the database was away: the next round sends them
                log.warning("unowned CDR round failed", error=repr(exc))
            self.woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.woken.wait(), interval_s)
