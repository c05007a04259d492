"""The OCPI HTTP app: versions, every registered module, the envelope on every answer.

Every answer echoes X-Request-ID / X-Correlation-ID and reverses the hub routing headers
(`ocpi.headers`). `chargegrid.platform.http_server.HttpServer` runs it inside the service's
event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.ocpi.auth import Caller, caller_of
from chargegrid.roaming.ocpi.envelope import envelope
from chargegrid.roaming.ocpi.errors import install_error_handlers
from chargegrid.roaming.ocpi.headers import answer_headers
from chargegrid.roaming.ocpi.limits import BodyLimit
from chargegrid.roaming.ocpi.registry import VERSION
from chargegrid.roaming.ocpi.status import Status, not_found


def build_http_app(context: RoamingContext) -> FastAPI:
    app = FastAPI(title="ChargeGrid OCPI 2.2.1 (CPO)", docs_url=None, redoc_url=None)
    app.state.context = context
    install_error_handlers(app)
    settings = context.settings
    # Added first, so it runs inside the headers middleware: a 413 carries the ids too.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.middleware("http")
    async def ocpi_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in answer_headers(request, settings.country_code, settings.party_id).items():
            response.headers[key] = value
        return response

    @app.get("/ocpi/versions")
    async def versions(
        caller: Caller = Depends(caller_of), ctx: RoamingContext = Depends(context_of)
    ) -> JSONResponse:
        url = f"{ctx.settings.public_url}/ocpi/{VERSION}"
        return JSONResponse(envelope([{"version": VERSION, "url": url}]))

    @app.get("/ocpi/{version}")
    async def version_details(
        version: str,
        caller: Caller = Depends(caller_of),
        ctx: RoamingContext = Depends(context_of),
    ) -> JSONResponse:
        if version != VERSION:
            raise not_found(f"version {version} is not supported", Status.UNSUPPORTED_VERSION)
        endpoints = ctx.registry.endpoints(ctx.settings.public_url)
        return JSONResponse(envelope({"version": VERSION, "endpoints": endpoints}))

    for module in context.registry:
        app.include_router(module.router, prefix=module.prefix)
    return app
