"""The `/api/v1` routes, one module per area; `ROUTERS` is what the application mounts."""

from fastapi import APIRouter

from chargegrid.console.routes import (
    analytics,
    billing,
    commands,
    energy,
    events,
    firmware,
    me,
    overview,
    sessions,
    stations,
    tokens,
)

ROUTERS: list[APIRouter] = [
    me.router,
    overview.router,
    stations.router,
    commands.router,
    sessions.router,
    billing.router,
    tokens.router,
    firmware.router,
    energy.router,
    analytics.router,
    events.router,
]
