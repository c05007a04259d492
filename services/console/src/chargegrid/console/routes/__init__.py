"""The `/api/v1` routes, one module per area; `ROUTERS` is what the application mounts."""

from fastapi import APIRouter

from chargegrid.console.routes import commands, events, me, overview, stations

ROUTERS: list[APIRouter] = [
    me.router,
    overview.router,
    stations.router,
    commands.router,
    events.router,
]
