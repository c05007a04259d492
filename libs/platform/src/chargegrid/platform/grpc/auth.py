"""Bearer-token authentication and per-method roles for every gRPC server.

Who may call a method is declared in the proto (`chargegrid.api.auth.v1.allowed_roles`); this
module reads that option from the descriptor pool once per method. ADMIN may call anything; a
method that declares no roles is admin-only (fail closed); health and reflection are public.
Missing or unknown tokens get UNAUTHENTICATED, known tokens without the role PERMISSION_DENIED.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor_pool

from chargegrid.api.auth.v1 import options_pb2
from chargegrid.platform.grpc.tokens import Principal, Role, TokenRegistry
from chargegrid.platform.grpc.wrapping import wrap_handler

PUBLIC_SERVICES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
_ROLE_FROM_PROTO = {
    options_pb2.ROLE_VIEWER: Role.VIEWER,
    options_pb2.ROLE_OPERATOR: Role.OPERATOR,
    options_pb2.ROLE_ADMIN: Role.ADMIN,
    options_pb2.ROLE_SERVICE: Role.SERVICE,
}
_principal: ContextVar[Principal | None] = ContextVar("grpc_principal", default=None)


def current_principal() -> Principal | None:
    """Who is calling the handler that runs now (None for public methods)."""
    return _principal.get()


@dataclass(frozen=True, slots=True)
class MethodPolicy:
    """Who may call one method: anyone (public), or ADMIN plus the listed roles."""

    public: bool
    roles: frozenset[Role]

    def allows(self, role: Role) -> bool:
        return self.public or role is Role.ADMIN or role in self.roles


ADMIN_ONLY = MethodPolicy(public=False, roles=frozenset())


@functools.lru_cache(maxsize=4096)
def method_policy(full_method: str) -> MethodPolicy:
    """The access policy of "/package.Service/Method" from its proto options.

    Read from the default descriptor pool, where every generated `_pb2` module registers
    itself on import (a server imports them to register its servicers). A method the pool
    does not know is admin-only: unknown means unreviewed.
    """
    if full_method.startswith(PUBLIC_SERVICES):
        return MethodPolicy(public=True, roles=frozenset())
    name = full_method.lstrip("/").replace("/", ".")
    try:
        method = descriptor_pool.Default().FindMethodByName(name)
    except KeyError:
        return ADMIN_ONLY
    options = method.GetOptions()
    declared = options.Extensions[options_pb2.allowed_roles]
    roles = frozenset(_ROLE_FROM_PROTO[r] for r in declared if r in _ROLE_FROM_PROTO)
    return MethodPolicy(public=bool(options.Extensions[options_pb2.public]), roles=roles)


def bearer_token(metadata: Any) -> str | None:
    """The token of an `authorization: Bearer <token>` metadata entry, if there is one."""
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without a valid token or the method's role; records the principal."""

    def __init__(self, registry: TokenRegistry) -> None:
        self.registry = registry

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        policy = method_policy(method)
        if policy.public:
            return handler
        registry = self.registry

        @asynccontextmanager
        async def authorized(context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[None]:
            token = bearer_token(context.invocation_metadata())
            principal = registry.authenticate(token) if token else None
            if principal is None:
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "missing bearer token: send metadata 'authorization: Bearer <token>'"
                    if token is None
                    else "invalid bearer token",
                )
                return  # not reached: abort() raises (and a cm that never yields fails the call)
            # Each RPC runs in its own task, so the value cannot leak into another call; it is
            # set before the role check and left set so the outer log line names who called,
            # refused or not.
            _principal.set(principal)
            if not policy.allows(principal.role):
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"role {principal.role.value} may not call {method}",
                )
            yield

        return wrap_handler(handler, authorized)
