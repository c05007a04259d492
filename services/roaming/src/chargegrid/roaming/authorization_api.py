"""gRPC RoamingAuthorization: the authorization service's question about a token it lacks."""

from __future__ import annotations

import grpc

from chargegrid.api.roaming.v1 import authorization_pb2 as pb
from chargegrid.api.roaming.v1.authorization_pb2_grpc import RoamingAuthorizationServicer
from chargegrid.roaming.realtime import RealtimeAuthorization

SERVICE_NAME = "chargegrid.api.roaming.v1.RoamingAuthorization"


class RoamingAuthorizationApi(RoamingAuthorizationServicer):
    def __init__(self, realtime: RealtimeAuthorization) -> None:
        self.realtime = realtime

    async def Authorize(
        self,
        request: pb.RoamingAuthorizeRequest,
        context: grpc.aio.ServicerContext[pb.RoamingAuthorizeRequest, pb.RoamingAuthorizeReply],
    ) -> pb.RoamingAuthorizeReply:
        answer = await self.realtime.authorize(request.id_token, request.token_type)
        return pb.RoamingAuthorizeReply(
            known=answer.known,
            status=answer.status if answer.known else "",
            reason=answer.reason,
            source=answer.source,
            group_id=answer.group_id,
            authorization_reference=answer.authorization_reference,
        )
