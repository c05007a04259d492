"""The Authorization gRPC servicer: translates proto <-> domain and nothing more.

Validation lives in `convert`, behaviour in the services; refusals are `DomainError`s that
the platform maps to status codes in one place.
"""

from __future__ import annotations

from typing import Any

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationServicer
from chargegrid.authorization import convert
from chargegrid.authorization.audit import DecisionAudit, DecisionFilter
from chargegrid.authorization.authorizer import Authorizer
from chargegrid.authorization.gateway import StationGateway
from chargegrid.authorization.list_service import ListService
from chargegrid.authorization.store import TokenFilter
from chargegrid.authorization.tokens import TokenService
from chargegrid.platform.grpc import FailedPrecondition, InvalidArgument

SERVICE_NAME = "chargegrid.api.authorization.v1.Authorization"


class AuthorizationApi(AuthorizationServicer):
    def __init__(
        self,
        authorizer: Authorizer,
        tokens: TokenService,
        lists: ListService,
        audit: DecisionAudit,
        gateway: StationGateway,
    ) -> None:
        self.authorizer = authorizer
        self.tokens = tokens
        self.lists = lists
        self.audit = audit
        self.gateway = gateway

    async def Authorize(self, request: pb.AuthorizeRequest, context: Any) -> pb.AuthorizeReply:
        decision = await self.authorizer.authorize(convert.query_from_proto(request))
        return convert.decision_to_proto(decision)

    # --- tokens --------------------------------------------------------------------------------
    async def CreateToken(self, request: pb.CreateTokenRequest, context: Any) -> pb.Token:
        token = convert.token_from_proto(request.token)
        return convert.token_to_proto(await self.tokens.create(token))

    async def UpdateToken(self, request: pb.UpdateTokenRequest, context: Any) -> pb.Token:
        token = convert.token_from_proto(request.token)
        return convert.token_to_proto(await self.tokens.update(token))

    async def GetToken(self, request: pb.GetTokenRequest, context: Any) -> pb.Token:
        key = await self.tokens.resolve(*convert.token_key(request.id_token, request.type))
        return convert.token_to_proto(await self.tokens.get(key))

    async def DeleteToken(
        self, request: pb.DeleteTokenRequest, context: Any
    ) -> pb.DeleteTokenReply:
        key = await self.tokens.resolve(*convert.token_key(request.id_token, request.type))
        await self.tokens.delete(key)
        return pb.DeleteTokenReply()

    async def ListTokens(self, request: pb.ListTokensRequest, context: Any) -> pb.ListTokensReply:
        size = convert.page_size(request.page)
        status = convert.stored_status(request.status)
        where = TokenFilter(
            id_prefix=request.id_prefix,
            status=status,
            group_id=request.group_id,
            owner_ref=request.owner_ref,
            source=request.source,
        )
        found, next_token, total = await self.tokens.list(where, size, request.page.page_token)
        return pb.ListTokensReply(
            tokens=[convert.token_to_proto(t) for t in found],
            next_page_token=next_token,
            total=total,
        )

    async def ImportTokens(
        self, request: pb.ImportTokensRequest, context: Any
    ) -> pb.ImportTokensReply:
        if not request.tokens:
            raise InvalidArgument("tokens: nothing to import")
        items = [convert.token_from_proto(t, f"tokens[{n}]") for n, t in enumerate(request.tokens)]
        created, updated = await self.tokens.import_tokens(items)
        return pb.ImportTokensReply(created=created, updated=updated)

    # --- local lists ---------------------------------------------------------------------------
    async def AddToLocalList(self, request: pb.LocalListChange, context: Any) -> pb.LocalList:
        scope = convert.scope_from_proto(request.scope)
        version, members = await self.lists.change(
            scope, add=convert.ref_keys(list(request.tokens))
        )
        return self._local_list(request.scope, version, members)

    async def RemoveFromLocalList(self, request: pb.LocalListChange, context: Any) -> pb.LocalList:
        scope = convert.scope_from_proto(request.scope)
        keys = convert.ref_keys(list(request.tokens))
        version, members = await self.lists.change(scope, remove=keys)
        return self._local_list(request.scope, version, members)

    async def GetLocalList(self, request: pb.GetLocalListRequest, context: Any) -> pb.LocalList:
        version, members = await self.lists.get(convert.scope_from_proto(request.scope))
        return self._local_list(request.scope, version, members)

    @staticmethod
    def _local_list(scope: pb.LocalListScope, version: int, members: list[Any]) -> pb.LocalList:
        return pb.LocalList(
            scope=scope, version=version, tokens=[convert.token_to_proto(t) for t in members]
        )

    async def SyncLocalList(
        self, request: pb.SyncLocalListRequest, context: Any
    ) -> pb.LocalListSync:
        station_id = convert.station_id(request.station_id)
        return convert.sync_to_proto(await self.lists.sync(station_id, request.full))

    async def ListLocalListSyncs(
        self, request: pb.ListLocalListSyncsRequest, context: Any
    ) -> pb.ListLocalListSyncsReply:
        records = await self.lists.syncs(convert.scope_from_proto(request.scope))
        return pb.ListLocalListSyncsReply(syncs=[convert.sync_to_proto(r) for r in records])

    async def ClearStationCache(
        self, request: pb.ClearStationCacheRequest, context: Any
    ) -> pb.ClearStationCacheReply:
        station_id = convert.station_id(request.station_id)
        if not self.gateway.configured:
            raise FailedPrecondition("no gateway configured (CHARGEGRID_GATEWAY_ADDRESS)")
        return pb.ClearStationCacheReply(status=await self.gateway.clear_cache(station_id))

    # --- audit ---------------------------------------------------------------------------------
    async def ListDecisions(
        self, request: pb.ListDecisionsRequest, context: Any
    ) -> pb.ListDecisionsReply:
        size = convert.page_size(request.page)
        where = DecisionFilter(
            station_id=request.station_id,
            id_token=request.id_token,
            since=convert.from_timestamp(request.since),
            until=convert.from_timestamp(request.until),
        )
        if where.since and where.until and where.since > where.until:
            raise InvalidArgument("since is after until")
        found, next_token = await self.audit.list(where, size, request.page.page_token)
        return pb.ListDecisionsReply(
            decisions=[convert.audit_to_proto(entry) for _, entry in found],
            next_page_token=next_token,
        )
