"""The FastAPI application: routes, problem+json errors, body limit, docs, metrics.

Built by `create_api` from what the composition root made; it connects to nothing itself.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from chargegrid.console import problems
from chargegrid.console.auth import Authenticator
from chargegrid.console.backends import Backends
from chargegrid.console.limits import BodyLimit
from chargegrid.console.live import LiveMirror
from chargegrid.console.routes import ROUTERS

WEB_DIR = Path(__file__).resolve().parent / "web"


def create_api(
    backends: Backends,
    auth: Authenticator,
    live: LiveMirror,
    *,
    max_body_bytes: int = 1 << 20,
    web_dir: Path | None = WEB_DIR,
) -> FastAPI:
    app = FastAPI(
        title="ChargeGrid console API",
        version="1",
        summary="Operators' API over the ChargeGrid services (bearer API tokens).",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.backends = backends
    app.state.auth = auth
    app.state.live = live
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1")

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if web_dir is not None and web_dir.is_dir():
        # The dashboard (static files, same origin); mounted last so /api wins.
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app
