"""The RoamingAdmin gRPC API: partners, registration with a partner, push status, resync.

Translates proto <-> partners and maps refusals to status codes in one place (`_refusals`);
no token ever leaves except the token A of a new partner, once, in AddPartner's reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.roaming.v1 import roaming_pb2 as pb
from chargegrid.api.roaming.v1 import roaming_pb2_grpc as pb_grpc
from chargegrid.platform.grpc import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from chargegrid.roaming import registration
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.partners import (
    PENDING,
    REGISTERED,
    SUSPENDED,
    UNREGISTERED,
    Partner,
    PartnerError,
    UnknownPartner,
)
from chargegrid.roaming.token_pull import pull_tokens

SERVICE_NAME = "chargegrid.api.roaming.v1.RoamingAdmin"


def stamp(when: datetime | None) -> Timestamp | None:
    if when is None:
        return None
    found = Timestamp()
    found.FromDatetime(when)
    return found


def partner_message(p: Partner) -> pb.Partner:
    return pb.Partner(
        id=p.id,
        name=p.name,
        country_code=p.country_code,
        party_id=p.party_id,
        status=p.status,
        allowed_modules=p.allowed_modules,
        roles=[str(r.get("role", "")) for r in p.roles],
        versions_url=p.versions_url,
        version=p.version,
        endpoints=[pb.Endpoint(**e) for e in p.endpoints],
        created_at=stamp(p.created_at),
        updated_at=stamp(p.updated_at),
    )


@asynccontextmanager
async def _refusals(partner_id: str = "") -> AsyncIterator[None]:
    try:
        yield
    except UnknownPartner:
        raise NotFound(f"no partner {partner_id!r}") from None
    except PartnerError as exc:
        message = str(exc)
        raise (AlreadyExists if "exists already" in message else InvalidArgument)(message) from None


class RoamingAdminService(pb_grpc.RoamingAdminServicer):
    def __init__(self, ctx: RoamingContext) -> None:
        self.ctx = ctx

    async def AddPartner(self, request: pb.AddPartnerRequest, context: Any) -> pb.AddPartnerReply:
        async with _refusals(request.partner_id):
            partner, token_a = await self.ctx.partners.add(
                request.partner_id,
                name=request.name,
                country_code=request.country_code,
                party_id=request.party_id,
                allowed_modules=list(request.allowed_modules),
            )
        return pb.AddPartnerReply(
            partner=partner_message(partner), token_a=token_a, versions_url=self.ctx.versions_url
        )

    async def ListPartners(
        self, request: pb.ListPartnersRequest, context: Any
    ) -> pb.ListPartnersReply:
        partners = await self.ctx.partners.all()
        return pb.ListPartnersReply(partners=[partner_message(p) for p in partners])

    async def GetPartner(self, request: pb.GetPartnerRequest, context: Any) -> pb.Partner:
        async with _refusals(request.partner_id):
            return partner_message(await self.ctx.partners.get(request.partner_id))

    async def UpdatePartner(self, request: pb.UpdatePartnerRequest, context: Any) -> pb.Partner:
        async with _refusals(request.partner_id):
            partner = await self.ctx.partners.get(request.partner_id)
            if request.suspension not in ("", "suspend", "resume"):
                raise InvalidArgument("suspension must be '', 'suspend' or 'resume'")
            if request.set_modules:
                partner = await self.ctx.partners.set_modules(
                    partner.id, list(request.allowed_modules)
                )
            if request.suspension == "suspend" and partner.status == REGISTERED:
                partner = await self.ctx.partners.update(partner.id, status=SUSPENDED)
            elif request.suspension == "resume" and partner.status == SUSPENDED:
                status = REGISTERED if partner.their_token else PENDING
                partner = await self.ctx.partners.update(partner.id, status=status)
            elif request.suspension:
                raise FailedPrecondition(f"partner {partner.id} is {partner.status}")
        return partner_message(partner)

    async def RemovePartner(
        self, request: pb.RemovePartnerRequest, context: Any
    ) -> pb.RemovePartnerReply:
        async with _refusals(request.partner_id):
            partner = await self.ctx.partners.get(request.partner_id)
            await registration.unregister_from(self.ctx, partner)
            await self.ctx.partners.remove(partner.id)
        return pb.RemovePartnerReply()

    async def Register(self, request: pb.RegisterRequest, context: Any) -> pb.Partner:
        if not request.url.startswith(("http://", "https://")):
            raise InvalidArgument("url must be the partner's versions URL (http:// or https://)")
        if not request.token_a.strip():
            raise InvalidArgument("token_a is required")
        async with _refusals(request.partner_id):
            created = False
            try:
                partner = await self.ctx.partners.get(request.partner_id)
            except UnknownPartner:
                created = True
                partner, _ = await self.ctx.partners.add(
                    request.partner_id,
                    name=request.name,
                    allowed_modules=list(request.allowed_modules),
                )
            if partner.status not in (PENDING, UNREGISTERED):
                raise FailedPrecondition(f"partner {partner.id} is {partner.status}")
            try:
                partner = await registration.register_with(
                    self.ctx, partner, request.url, request.token_a.strip()
                )
            except registration.RegistrationFailed as exc:
                if created:  # a partner added for this call only: nothing of it is kept
                    await self.ctx.partners.remove(partner.id)
                raise FailedPrecondition(f"registration refused: {exc}") from None
        return partner_message(partner)

    async def GetStatus(self, request: pb.GetStatusRequest, context: Any) -> pb.GetStatusReply:
        async with _refusals(request.partner_id):
            partners = (
                [await self.ctx.partners.get(request.partner_id)]
                if request.partner_id
                else await self.ctx.partners.all()
            )
        backlog = await self.ctx.outbox.backlog()
        found = []
        for partner in partners:
            b = backlog.get(partner.id)
            found.append(
                pb.PartnerStatus(
                    partner_id=partner.id,
                    status=partner.status,
                    backlog=b.backlog if b else 0,
                    failing=b.failing if b else 0,
                    oldest_pending_at=stamp(b.oldest_pending_at) if b else None,
                    last_push_at=stamp(b.last_push_at) if b else None,
                    last_error=(b.last_error or "") if b else "",
                    last_error_at=stamp(b.last_error_at) if b else None,
                )
            )
        return pb.GetStatusReply(partners=found)

    async def Resync(self, request: pb.ResyncRequest, context: Any) -> pb.ResyncReply:
        async with _refusals(request.partner_id):
            if request.partner_id:
                partner = await self.ctx.partners.get(request.partner_id)
                if partner.status != REGISTERED:
                    raise FailedPrecondition(f"partner {partner.id} is {partner.status}")
        pushes = 0
        for source in ("location_sync", "tariff_sync"):
            sync = self.ctx.services.get(source)
            if sync is not None:
                await sync.once()
        for module, store in (("locations", "locations"), ("tariffs", "tariffs")):
            partners = await self.ctx.partners.registered_with(module)
            if request.partner_id:
                partners = [p for p in partners if p.id == request.partner_id]
            if store in self.ctx.services and partners:
                pushes += await self.ctx.services[store].push_all(partners)
        return pb.ResyncReply(pushes=pushes)

    async def RotateCredentials(
        self, request: pb.RotateCredentialsRequest, context: Any
    ) -> pb.Partner:
        async with _refusals(request.partner_id):
            partner = await self.ctx.partners.get(request.partner_id)
            try:
                partner = await registration.rotate_with(self.ctx, partner)
            except registration.RegistrationFailed as exc:
                raise FailedPrecondition(f"rotation refused: {exc}") from None
        return partner_message(partner)

    async def PullTokens(self, request: pb.PullTokensRequest, context: Any) -> pb.PullTokensReply:
        async with _refusals(request.partner_id):
            if request.partner_id:
                partner = await self.ctx.partners.get(request.partner_id)
                if partner.status != REGISTERED or not partner.endpoint("tokens", "SENDER"):
                    raise FailedPrecondition(
                        f"partner {partner.id} is {partner.status} without a tokens SENDER"
                    )
        pulled = await pull_tokens(self.ctx, request.partner_id)
        return pb.PullTokensReply(
            partners=[pb.TokensPulled(partner_id=p, tokens=n, error=e) for p, n, e in pulled]
        )
