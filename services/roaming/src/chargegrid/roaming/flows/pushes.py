"""session.events.v1 and billing.events.v1 -> OCPI Sessions and CDRs for the token's partner.

A batch is one transaction: its event ids are claimed there with the rows and the outbox
pushes, so a redelivered batch sends nothing twice. A session is PUT when it opens and when
it ends; an update is PATCHed (the fields that changed) at most once per `patch_interval_s`
of session time, the rest only refresh what GET answers. A CDR is POSTed once: its row is
keyed by billing's CDR id. Session events of tokens no partner owns are not roaming:
skipped; such a CDR is kept (`unowned_cdrs`) and sent if its token's partner becomes known
(`chargegrid.roaming.flows.unowned`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.billing.v1 import billing_pb2 as bpb
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.platform.bus import Delivered, occurred_at, unpack
from chargegrid.platform.bus.idempotency import claim_events
from chargegrid.platform.logging import get_logger
from chargegrid.roaming.clock import Clock
from chargegrid.roaming.flows import mapping
from chargegrid.roaming.flows.rows import RoamingCdrRow, RoamingSessionRow, UnownedCdrRow
from chargegrid.roaming.locations import mapping as locations
from chargegrid.roaming.models import EvseRow, LocationRow, TariffRow
from chargegrid.roaming.outbox import Outbox
from chargegrid.roaming.partner_tokens import PartnerTokens, StoredToken
from chargegrid.roaming.partners import REGISTERED, PartnerStore, UnknownPartner

log = get_logger(__name__)
CONSUMER = "roaming-flows"
SessionEvent = spb.SessionOpened | spb.SessionUpdated | spb.SessionClosed
SESSION_TYPES: dict[str, type[SessionEvent]] = {
    "session.opened": spb.SessionOpened,
    "session.updated": spb.SessionUpdated,
    "session.closed": spb.SessionClosed,
}
CDR_CREATED = "cdr.created"
EVENT_TYPES = frozenset({*SESSION_TYPES, CDR_CREATED})


class Flows:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        outbox: Outbox,
        partners: PartnerStore,
        tokens: PartnerTokens,
        ours: tuple[str, str],
        currency: str = "EUR",
        patch_interval_s: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.outbox = outbox
        self.partners = partners
        self.tokens = tokens
        self.ours = ours
        self.currency = currency
        self.patch_interval = timedelta(seconds=patch_interval_s)

    async def batch(self, items: Sequence[Delivered]) -> None:
        """The consumer's handler: one transaction per batch."""
        wanted = [(env, _) for env, _ in items if env.type in EVENT_TYPES]
        if not wanted:
            return
        owners = {}
        for env, _ in wanted:
            uid = self._token_of(env)
            if uid and uid not in owners:
                owners[uid] = await self.owner(
                    uid, "cdrs" if env.type == CDR_CREATED else "sessions"
                )
        pushed = 0
        async with self.sessions.begin() as session:
            fresh = await claim_events(
                session, CONSUMER, [e.event_id for e, _ in wanted], self.clock()
            )
            for env, _ in wanted:
                owner = owners.get(self._token_of(env))
                if env.event_id not in fresh:
                    continue
                fresh.discard(env.event_id)
                if owner is None:
                    if env.type == CDR_CREATED:  # its token's partner may come later
                        await self._keep_unowned(session, unpack(env, bpb.CdrCreated).cdr)
                    continue
                if env.type == CDR_CREATED:
                    pushed += await self.cdr(session, unpack(env, bpb.CdrCreated).cdr, owner)
                else:
                    s = _session_of(env)
                    pushed += await self._session(session, s, owner, env.type, occurred_at(env))
        if pushed:
            log.info("roaming pushes queued", pushes=pushed)

    @staticmethod
    def _token_of(env: Any) -> str:
        if env.type == CDR_CREATED:
            return unpack(env, bpb.CdrCreated).cdr.id_token.id
        if env.type in SESSION_TYPES:
            return _session_of(env).id_token.id
        return ""

    async def owner(self, uid: str, module: str) -> StoredToken | None:
        for stored in await self.tokens.find(uid):
            try:
                partner = await self.partners.get(stored.partner_id)
            except UnknownPartner:
                continue
            if partner.status == REGISTERED and partner.may_use(module):
                return stored
        return None

    async def _keep_unowned(self, session: AsyncSession, cdr: bpb.Cdr) -> None:
        sent = await session.get(RoamingCdrRow, cdr.id)
        if sent is not None or await session.get(UnownedCdrRow, cdr.id) is not None:
            return
        uid = cdr.id_token.id.upper()[:64]
        kept = UnownedCdrRow(cdr_id=cdr.id, uid=uid, cdr=cdr.SerializeToString(),
                             created_at=self.clock())  # fmt: skip
        session.add(kept)

    async def _place(self, session: AsyncSession, station_id: str, evse_id: int, connector: int,
                     site_id: str) -> mapping.Place:  # fmt: skip
        evse = await session.scalar(
            select(EvseRow).where(EvseRow.station_id == station_id, EvseRow.evse_id == evse_id)
        )
        connector_id = str(connector or 1)
        if evse is None:
            return mapping.Place(
                site_id or station_id, locations.evse_uid(station_id, evse_id), connector_id
            )
        location = await session.get(LocationRow, evse.location_id)
        return mapping.Place(
            evse.location_id,
            evse.uid,
            connector_id,
            json.loads(location.doc) if location else None,
            json.loads(evse.doc),
        )

    async def _session(
        self, session: AsyncSession, s: spb.Session, owner: StoredToken, kind: str, at: datetime
    ) -> int:
        row = await session.get(RoamingSessionRow, s.id)
        if row is not None and row.status == "COMPLETED":
            return 0  # nothing after the end (a late update must not reopen it)
        updated = s.updated_at.ToDatetime(tzinfo=at.tzinfo) if s.HasField("updated_at") else at
        place = await self._place(session, s.station_id, s.evse_id, s.connector_id, s.site_id)
        body = mapping.session_object(s, owner, place, self.ours, self.currency, updated)
        path = f"/{self.ours[0]}/{self.ours[1]}/{body['id']}"
        key = f"session:{body['id']}"
        text = json.dumps(body, separators=(",", ":"))
        if row is None:
            row = RoamingSessionRow(
                session_id=s.id, ocpi_id=body["id"], partner_id=owner.partner_id,
                status=body["status"], body=text, pushed=text, pushed_at=updated,
                last_updated=updated,
            )  # fmt: skip
            session.add(row)
            await self.outbox.enqueue(owner.partner_id, "sessions", key, "PUT", path, body,
                                      session=session)  # fmt: skip
            return 1
        row.body, row.status, row.last_updated = text, body["status"], updated
        if body["status"] == "COMPLETED" or kind == "session.closed":
            method, sent = "PUT", body
        elif updated - row.pushed_at >= self.patch_interval:
            method, sent = "PATCH", mapping.session_patch(json.loads(row.pushed), body)
        else:
            return 0
        row.pushed, row.pushed_at = text, updated
        await self.outbox.enqueue(owner.partner_id, "sessions", key, method, path, sent,
                                  session=session)  # fmt: skip
        return 1

    async def cdr(self, session: AsyncSession, cdr: bpb.Cdr, owner: StoredToken) -> int:
        if await session.get(RoamingCdrRow, cdr.id) is not None:
            return 0
        sent = await session.get(RoamingSessionRow, cdr.session_id)
        # A CDR names its session, not its EVSE: the Session we sent says where it ran.
        place = await self._place(session, cdr.station_id, 1, 1, cdr.site_id)
        if sent is not None:
            earlier = json.loads(sent.body)
            place = mapping.Place(
                earlier["location_id"], earlier["evse_uid"], earlier["connector_id"],
                place.location, place.evse,
            )  # fmt: skip
        tariffs = []
        if cdr.cost.tariff_id:
            tariff = await session.get(TariffRow, mapping.ocpi_id(cdr.cost.tariff_id))
            if tariff is not None:
                tariffs.append(json.loads(tariff.doc))
        session_id = sent.ocpi_id if sent is not None else mapping.ocpi_id(cdr.session_id)
        body = mapping.cdr_object(cdr, owner, place, self.ours, tariffs, self.currency, session_id)
        session.add(
            RoamingCdrRow(
                cdr_id=cdr.id, ocpi_id=body["id"], partner_id=owner.partner_id,
                body=json.dumps(body, separators=(",", ":")), last_updated=self.clock(),
            )
        )  # fmt: skip
        # POST goes to the cdrs URL exactly as the partner gave it (the outbox strips a
        # trailing slash before appending a path; a slash path puts it back).
        partner = await self.partners.get(owner.partner_id)
        path = "/" if (partner.endpoint("cdrs") or "").endswith("/") else ""
        await self.outbox.enqueue(owner.partner_id, "cdrs", f"cdr:{body['id']}", "POST", path,
                                  body, session=session)  # fmt: skip
        return 1


def _session_of(env: Any) -> spb.Session:
    event: SessionEvent = unpack(env, SESSION_TYPES[env.type])
    return event.session
