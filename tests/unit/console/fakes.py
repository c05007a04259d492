"""Fakes of the services' gRPC stubs: record what the console sent, answer what a test set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from fastapi import FastAPI
from fastapi.testclient import TestClient
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from chargegrid.console.auth import Authenticator
from chargegrid.console.backends import Backends
from chargegrid.console.http import create_api
from chargegrid.console.hub import Hub
from chargegrid.console.live import LiveMirror
from chargegrid.platform.grpc.tokens import Role, TokenRegistry

SERVICES = {
    "gateway": "chargegrid.api.gateway.v1.StationControl",
    "stations": "chargegrid.api.stations.v1.Stations",
    "authorization": "chargegrid.api.authorization.v1.Authorization",
    "session": "chargegrid.api.session.v1.Sessions",
    "billing": "chargegrid.api.billing.v1.Billing",
    "firmware": "chargegrid.api.firmware.v1.Firmware",
    "energy": "chargegrid.api.energy.v1.Energy",
    "analytics": "chargegrid.api.analytics.v1.Analytics",
}
ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)


def rpc_error(code: grpc.StatusCode, details: str = "") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


@dataclass
class Call:
    method: str
    request: Any
    metadata: tuple[tuple[str, str], ...]


@dataclass
class FakeStub:
    """Any method of `service`: answers `replies[method]` (a message, a list for streams, a
    callable making either, or an exception), else the method's empty reply message."""

    service: str
    replies: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        full = f"{SERVICES[self.service]}.{method}"
        descriptor = descriptor_pool.Default().FindMethodByName(full)

        def invoke(request: Any, *, metadata: Any = (), timeout: float | None = None) -> Any:
            self.calls.append(Call(method, request, tuple(metadata or ())))
            reply = self.replies.get(method)
            if descriptor.server_streaming:
                return reply() if callable(reply) else _Stream(reply or [])
            return _unary(reply, descriptor)

        return invoke


async def _unary(reply: Any, descriptor: Any) -> Message:
    if isinstance(reply, Exception):
        raise reply
    if callable(reply):
        reply = reply()
    if reply is None:
        reply = message_factory.GetMessageClass(descriptor.output_type)()
    return reply  # type: ignore[no-any-return]


class _Stream:
    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def wait_for_connection(self) -> None:
        return None

    async def _iterate(self) -> AsyncIterator[Any]:
        for item in self.items:
            if isinstance(item, Exception):
                raise item
            yield item


@dataclass
class Console:
    """A console application over fake stubs, with one API token per role."""

    app: FastAPI
    client: TestClient
    stubs: dict[str, FakeStub]
    tokens: dict[str, str]
    registry: TokenRegistry
    mirror: LiveMirror
    auth: Authenticator

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def calls(self, service: str) -> list[Call]:
        return self.stubs[service].calls

    def reset(self) -> Console:
        """Forget calls and replies (one application serves a whole test module)."""
        for stub in self.stubs.values():
            stub.calls.clear()
            stub.replies.clear()
        self.mirror.stations.clear()
        self.mirror.sessions.clear()
        self.mirror.history.clear()
        self.mirror.loaded.clear()
        self.mirror.errors.clear()
        self.mirror.overview_cache.clear()
        self.mirror.session_stream_open = False
        self.mirror.status_stream_open = False
        self.mirror.records.clear()
        self.mirror._record_json.clear()
        self.mirror._to_read.clear()
        self.mirror._booting.clear()
        return self


def a_console(
    tmp_path: Path, *, missing: tuple[str, ...] = (), max_body_bytes: int = 1 << 20
) -> Console:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    tokens = {role.value: registry.add(f"{role.value}-user", role) for role in ROLES}
    tokens["service"] = registry.add("svc", Role.SERVICE)
    stubs = {name: FakeStub(name) for name in SERVICES if name not in missing}
    backends = Backends(stubs)
    mirror = LiveMirror(backends, Hub(10), tokens["service"], overview_cache_s=0)
    auth = Authenticator(registry, 60.0)
    app = create_api(backends, auth, mirror, max_body_bytes=max_body_bytes, web_dir=None)
    app.state.sse_keepalive_s = 0.05
    return Console(app, TestClient(app), stubs, tokens, registry, mirror, auth)
