"""`GET /api/v1/me`: who the token belongs to, so a page knows which buttons to show."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from chargegrid.console.auth import Caller, viewer

router = APIRouter(tags=["me"])


class Me(BaseModel):
    name: str
    role: str


@router.get("/me", response_model=Me)
async def me(caller: Annotated[Caller, Depends(viewer)]) -> Me:
    return Me(name=caller.name, role=caller.role.value)
