"""gRPC for every service: one server builder, one client channel factory, one auth model.

`GrpcServer` gives each service health checking, reflection, bearer-token auth with roles
declared in the protos, structured logs, metrics and traces, and `DomainError` mapping;
`create_channel` gives callers tokens, trace propagation, default deadlines and retries.
"""

from chargegrid.platform.grpc.auth import current_principal, method_policy
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
from chargegrid.platform.grpc.server import GrpcServer
from chargegrid.platform.grpc.tokens import (
    Principal,
    Role,
    TokenRegistry,
    ensure_bootstrap_tokens,
    generate_token,
)

__all__ = [
    "AlreadyExists",
    "DeadlineExceeded",
    "DomainError",
    "FailedPrecondition",
    "GrpcServer",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Principal",
    "Role",
    "TokenRegistry",
    "Unavailable",
    "Unimplemented",
    "create_channel",
    "current_principal",
    "ensure_bootstrap_tokens",
    "generate_token",
    "method_policy",
]
