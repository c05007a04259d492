"""Id tokens (RFID cards, app ids) of the authorization service; changes are admin's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.console.auth import Caller, admin, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import build, to_json
from chargegrid.console.deps import backends
from chargegrid.console.problems import Problem
from chargegrid.console.routes.params import PageSize, PageToken, enum_name, page

router = APIRouter(prefix="/tokens", tags=["id tokens"])
Viewer = Annotated[Caller, Depends(viewer)]
Admin = Annotated[Caller, Depends(admin)]
B = Annotated[Backends, Depends(backends)]
TokenTypeQuery = Annotated[str | None, Query(description="ISO14443, EMAID, CENTRAL, ...")]


def _type(value: str | None) -> str | None:
    return enum_name(pb.TokenType, "TOKEN_TYPE_", value, "type")


@router.get("")
async def list_tokens(
    caller: Viewer,
    b: B,
    id_prefix: str | None = None,
    status: Annotated[str | None, Query(description="accepted, blocked, expired, ...")] = None,
    group_id: str | None = None,
    owner_ref: str | None = None,
    source: str | None = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
) -> dict[str, Any]:
    request = build(
        pb.ListTokensRequest,
        {
            "id_prefix": id_prefix,
            "status": enum_name(pb.AuthorizationStatus, "AUTHORIZATION_STATUS_", status, "status"),
            "group_id": group_id,
            "owner_ref": owner_ref,
            "source": source,
            "page": page(page_size, page_token),
        },
    )
    return to_json(await b.call("authorization", "ListTokens", request, caller))


@router.get("/{id_token}")
async def get_token(
    id_token: str, caller: Viewer, b: B, type: TokenTypeQuery = None
) -> dict[str, Any]:
    request = build(pb.GetTokenRequest, {"id_token": id_token, "type": _type(type)})
    return to_json(await b.call("authorization", "GetToken", request, caller))


@router.post("", status_code=201)
async def create_token(
    caller: Admin, b: B, token: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    request = build(pb.CreateTokenRequest, {"token": token})
    return to_json(await b.call("authorization", "CreateToken", request, caller))


@router.put("/{id_token}")
async def update_token(
    id_token: str, caller: Admin, b: B, token: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    if token.get("id_token", id_token) != id_token:
        raise Problem(422, "token.id_token differs from the id in the path")
    request = build(pb.UpdateTokenRequest, {"token": {**token, "id_token": id_token}})
    return to_json(await b.call("authorization", "UpdateToken", request, caller))


@router.delete("/{id_token}", status_code=204)
async def delete_token(id_token: str, caller: Admin, b: B, type: TokenTypeQuery = None) -> Response:
    request = build(pb.DeleteTokenRequest, {"id_token": id_token, "type": _type(type)})
    await b.call("authorization", "DeleteToken", request, caller)
    return Response(status_code=204)
