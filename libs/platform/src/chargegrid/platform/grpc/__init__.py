"""gRPC for every service: one server builder, one client channel factory, one auth model.

`GrpcServer` (or `create_server(settings)`) gives each service health checking, reflection,
bearer-token auth with roles declared in the protos, a log line, metrics and a trace span per
call, and one mapping from `DomainError`s to status codes; `create_channel` gives callers
tokens, trace propagation, default deadlines and retries. Tokens live hashed in a registry
file (`TokenRegistry`) that servers re-read when it changes.

Names are loaded on first use (PEP 562): a client such as the `chargegrid` CLI importing
`chargegrid.platform.grpc.client` must not pay for the server's database and settings stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chargegrid.platform.grpc.auth import MethodPolicy, current_principal, method_policy
    from chargegrid.platform.grpc.client import create_channel
    from chargegrid.platform.grpc.errors import (
        AlreadyExists,
        DeadlineExceeded,
        DomainError,
        FailedPrecondition,
        InvalidArgument,
        NotFound,
        PermissionDenied,
        Unavailable,
        Unimplemented,
    )
    from chargegrid.platform.grpc.server import GrpcServer, create_server
    from chargegrid.platform.grpc.tokens import (
        Principal,
        Role,
        TokenRegistry,
        ensure_bootstrap_tokens,
        generate_token,
        hash_token,
    )

_HOME = {
    "MethodPolicy": "auth",
    "current_principal": "auth",
    "method_policy": "auth",
    "create_channel": "client",
    "AlreadyExists": "errors",
    "DeadlineExceeded": "errors",
    "DomainError": "errors",
    "FailedPrecondition": "errors",
    "InvalidArgument": "errors",
    "NotFound": "errors",
    "PermissionDenied": "errors",
    "Unavailable": "errors",
    "Unimplemented": "errors",
    "GrpcServer": "server",
    "create_server": "server",
    "Principal": "tokens",
    "Role": "tokens",
    "TokenRegistry": "tokens",
    "ensure_bootstrap_tokens": "tokens",
    "generate_token": "tokens",
    "hash_token": "tokens",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AlreadyExists",
    "DeadlineExceeded",
    "DomainError",
    "FailedPrecondition",
    "GrpcServer",
    "InvalidArgument",
    "MethodPolicy",
    "NotFound",
    "PermissionDenied",
    "Principal",
    "Role",
    "TokenRegistry",
    "Unavailable",
    "Unimplemented",
    "create_channel",
    "create_server",
    "current_principal",
    "ensure_bootstrap_tokens",
    "generate_token",
    "hash_token",
    "method_policy",
]
