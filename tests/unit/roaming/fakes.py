"""Test doubles for the roaming service: a fake eMSP partner (an OCPI app of its own that
records what it receives and can be switched off) and an httpx transport that routes each
host to an ASGI app, so our app and the partner call each other in one event loop."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.migrations import upgrade
from chargegrid.roaming.app import MIGRATIONS
from chargegrid.roaming.client import OcpiClient, Party
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.http import build_http_app
from chargegrid.roaming.modules import build_modules
from chargegrid.roaming.outbox import Outbox
from chargegrid.roaming.partners import PartnerStore
from chargegrid.roaming.settings import RoamingSettings

OUR_URL = "http://cpo.test"
PARTNER_URL = "http://emsp.test"


class RoutingTransport(httpx.AsyncBaseTransport):
    """Each host to its ASGI app; a host marked down refuses the connection."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()

    def route(self, host: str, app: Any) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"connection refused: {host}", request=request)
        return await self.apps[host].handle_async_request(request)


def ok(data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": 1000, "timestamp": datetime.now(UTC).isoformat()}
    if data is not None:
        body["data"] = data
    return body


@dataclass
class FakePartner:
    """An eMSP: versions/details with the token we must present, credentials, receivers."""

    token_b: str = "partner-token-b"
    token_a: str = "partner-token-a"
    country_code: str = "NL"
    party_id: str = "EMS"
    received: list[tuple[str, str, Any]] = field(default_factory=list)
    failing: bool = False
    token_c: str | None = None
    issued_c: str = "partner-token-c"
    rotated_c: str = "partner-token-c2"
    client: httpx.AsyncClient | None = None

    def credentials(self, token: str) -> dict[str, Any]:
        return {
            "token": token,
            "url": f"{PARTNER_URL}/ocpi/versions",
            "roles": [
                {
                    "role": "EMSP",
                    "party_id": self.party_id,
                    "country_code": self.country_code,
                    "business_details": {"name": "Fake eMSP"},
                }
            ],
        }

    def app(self) -> FastAPI:
        app = FastAPI()
        partner = self

        def presented(request: Request) -> str:
            value = request.headers.get("Authorization", "").removeprefix("Token ")
            return base64.b64decode(value).decode()

        def allowed(request: Request) -> bool:
            return presented(request) in {partner.token_b, partner.token_a, partner.token_c}

        @app.get("/ocpi/versions")
        async def versions(request: Request) -> JSONResponse:
            if not allowed(request):
                return JSONResponse({"status_code": 2001}, 401)
            return JSONResponse(ok([{"version": "2.2.1", "url": f"{PARTNER_URL}/ocpi/2.2.1"}]))

        @app.get("/ocpi/2.2.1")
        async def details(request: Request) -> JSONResponse:
            if not allowed(request):
                return JSONResponse({"status_code": 2001}, 401)
            modules = ["credentials", "locations", "tariffs", "sessions", "cdrs"]
            endpoints = [
                {"identifier": m, "role": "RECEIVER", "url": f"{PARTNER_URL}/ocpi/emsp/{m}"}
                for m in modules
            ]
            return JSONResponse(ok({"version": "2.2.1", "endpoints": endpoints}))

        @app.post("/ocpi/emsp/credentials")
        async def credentials(request: Request) -> JSONResponse:
            if presented(request) != partner.token_a:
                return JSONResponse({"status_code": 2001}, 401)
            body = await request.json()
            assert partner.client is not None
            # As the handshake requires: check the CPO's versions with its token B first.
            check = await partner.client.get(
                body["url"], headers={"Authorization": "Token " + _b64(body["token"])}
            )
            if check.status_code != 200:
                return JSONResponse({"status_code": 3001}, 400)
            partner.token_c = partner.issued_c
            return JSONResponse(ok(partner.credentials(partner.issued_c)))

        @app.put("/ocpi/emsp/credentials")
        async def rotated(request: Request) -> JSONResponse:
            if partner.failing:
                return JSONResponse({"status_code": 3000}, 503)
            if not allowed(request):
                return JSONResponse({"status_code": 2001}, 401)
            body = await request.json()
            partner.received.append(("PUT", "credentials", body))
            partner.token_c = partner.rotated_c
            return JSONResponse(ok(partner.credentials(partner.rotated_c)))

        @app.delete("/ocpi/emsp/credentials")
        async def unregistered(request: Request) -> JSONResponse:
            if not allowed(request):
                return JSONResponse({"status_code": 2001}, 401)
            partner.received.append(("DELETE", "credentials", None))
            return JSONResponse(ok())

        @app.api_route(
            "/ocpi/emsp/{module}/{path:path}", methods=["PUT", "PATCH", "POST", "DELETE"]
        )
        async def receive(module: str, path: str, request: Request) -> JSONResponse:
            if partner.failing:
                return JSONResponse({"status_code": 3000}, 503)
            if not allowed(request):
                return JSONResponse({"status_code": 2001}, 401)
            body = await request.json() if await request.body() else None
            partner.received.append((request.method, f"{module}/{path}", body))
            return JSONResponse(ok())

        return app


def _b64(token: str) -> str:
    return base64.b64encode(token.encode()).decode()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + _b64(token)}


async def build_context(
    database_url: str, transport: RoutingTransport, **settings: Any
) -> RoamingContext:
    config = RoamingSettings(
        database_url=database_url, public_url=OUR_URL, country_code="DE", party_id="CGR", **settings
    )
    engine = create_engine(config.database)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    registry = build_modules()
    clock = lambda: datetime.now(UTC)  # noqa: E731
    client = OcpiClient(Party("DE", "CGR"), 5.0, transport=transport)
    ctx = RoamingContext(
        config,
        sessions,
        clock,
        PartnerStore(sessions, clock, registry.identifiers()),
        Outbox(sessions, clock),
        client,
        registry,
    )
    ctx.services["engine"] = engine
    transport.route("cpo.test", build_http_app(ctx))
    return ctx


async def close_context(ctx: RoamingContext) -> None:
    await ctx.client.close()
    await ctx.services["engine"].dispose()


async def a_registered_partner(
    ctx: RoamingContext,
    partner_id: str = "emsp1",
    modules: list[str] | None = None,
    token: str = "our-token-c",
    their_token: str = "partner-token-b",
) -> str:
    """A partner past the handshake (its receivers at PARTNER_URL); the token it presents."""
    from chargegrid.roaming.ocpi import tokens
    from chargegrid.roaming.partners import REGISTERED

    await ctx.partners.add(partner_id, allowed_modules=modules or ["credentials", "locations"])
    endpoints = [
        {"identifier": m, "role": "RECEIVER", "url": f"{PARTNER_URL}/ocpi/emsp/{m}"}
        for m in ("credentials", "locations", "tariffs", "sessions", "cdrs")
    ]
    await ctx.partners.update(
        partner_id,
        status=REGISTERED,
        token_hash=tokens.digest(token),
        token_a_hash=None,
        their_token=their_token,
        endpoints=endpoints,
        country_code="NL",
        party_id="EMS",
    )
    return token
