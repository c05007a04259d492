"""gRPC for every service: one server builder, one client channel factory, one auth model.

`GrpcServer` (or `create_server(settings)`) gives each service health checking, reflection,
bearer-token auth with roles declared in the protos, a log line, metrics and a trace span per
call, and one mapping from `DomainError`s to status codes; `create_channel` gives callers
tokens, trace propagation, default deadlines and retries. Tokens live hashed in a registry
file (`TokenRegistry`) that servers re-read when it changes.
"""

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
