"""The tariffs projection: replaced by each poll of billing, read by OCPI GETs; a tariff
that is new or changed is PUT to partners, one billing no longer has is DELETEd."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.billing.v1 import billing_pb2 as bp
from chargegrid.platform.logging import get_logger
from chargegrid.roaming.clock import Clock
from chargegrid.roaming.locations.mapping import digest
from chargegrid.roaming.models import TariffRow
from chargegrid.roaming.ocpi.envelope import ocpi_time
from chargegrid.roaming.ocpi.paging import Page
from chargegrid.roaming.outbox import Outbox
from chargegrid.roaming.partners import PartnerStore
from chargegrid.roaming.tariffs import mapping

MODULE = "tariffs"
log = get_logger(__name__)


def published(row: TariffRow) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(row.doc)
    doc["last_updated"] = ocpi_time(row.last_updated)
    return doc


class TariffStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        outbox: Outbox,
        partners: PartnerStore,
        country_code: str,
        party_id: str,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.outbox = outbox
        self.partners = partners
        self.country_code = country_code
        self.party_id = party_id

    def path(self, tariff_id: str) -> str:
        return f"/{self.country_code}/{self.party_id}/{tariff_id}"

    async def page(self, page: Page) -> tuple[list[dict[str, Any]], int]:
        conditions: list[ColumnElement[bool]] = [TariffRow.active.is_(True)]
        if page.date_from:
            conditions.append(TariffRow.last_updated >= page.date_from)
        if page.date_to:
            conditions.append(TariffRow.last_updated < page.date_to)
        async with self.sessions() as session:
            total = await session.scalar(
                select(func.count()).select_from(TariffRow).where(*conditions)
            )
            rows = (
                await session.scalars(
                    select(TariffRow)
                    .where(*conditions)
                    .order_by(TariffRow.id)
                    .offset(page.offset)
                    .limit(page.limit)
                )
            ).all()
        return [published(r) for r in rows], int(total or 0)

    async def push_all(self, partners: list[Any]) -> int:
        """A PUT of every active tariff to each partner given (a resync); how many pushes."""
        pushes = 0
        async with self.sessions.begin() as session:
            query = select(TariffRow).where(TariffRow.active.is_(True)).order_by(TariffRow.id)
            for row in (await session.scalars(query)).all():
                pushes += await self.outbox.enqueue_all(
                    partners, MODULE, row.id, "PUT", self.path(row.id), published(row),
                    session=session,
                )  # fmt: skip
        return pushes

    async def sync(self, tariffs: Sequence[bp.Tariff]) -> int:
        """Make the projection match billing; return how many pushes were queued."""
        now = self.clock()
        partners = await self.partners.registered_with(MODULE)
        pushes = 0
        async with self.sessions.begin() as session:
            rows = {r.id: r for r in await session.scalars(select(TariffRow))}
            seen: set[str] = set()
            for t in tariffs:
                if len(t.id) > mapping.MAX_ID:
                    log.warning("tariff id longer than OCPI allows: not published", tariff=t.id)
                    continue
                seen.add(t.id)
                doc = mapping.tariff(self.country_code, self.party_id, t)
                row = rows.get(t.id)
                if row is not None and row.digest == digest(doc) and row.active:
                    continue
                if row is None:
                    row = TariffRow(id=t.id, doc="", digest="", last_updated=now, active=True)
                    session.add(row)
                row.doc, row.digest, row.last_updated, row.active = (
                    json.dumps(doc), digest(doc), now, True,
                )  # fmt: skip
                pushes += await self.outbox.enqueue_all(
                    partners, MODULE, t.id, "PUT", self.path(t.id), published(row),
                    session=session,
                )  # fmt: skip
            for tariff_id, row in rows.items():
                if tariff_id not in seen and row.active:
                    row.active, row.last_updated = False, now
                    pushes += await self.outbox.enqueue_all(
                        partners, MODULE, tariff_id, "DELETE", self.path(tariff_id), None,
                        session=session,
                    )  # fmt: skip
        return pushes
