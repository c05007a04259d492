"""Who may call a method comes from its proto options; unknown and unannotated means admin-only."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2

from chargegrid.api.auth.v1 import options_pb2
from chargegrid.api.gateway.v1 import station_control_pb2  # noqa: F401  (registers the service)
from chargegrid.platform.grpc import Role, method_policy
from chargegrid.platform.grpc.auth import bearer_token

STATION_CONTROL = "/chargegrid.api.gateway.v1.StationControl"
PROBE = "/chargegrid_tests.grpc.v1.Probe"


def _register_probe_service() -> None:
    """A service with a public method, an unannotated one and an operator one."""
    pool = descriptor_pool.Default()
    name = "chargegrid_tests/grpc/v1/probe.proto"
    try:
        pool.FindFileByName(name)
        return
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto(
        name=name,
        package="chargegrid_tests.grpc.v1",
        syntax="proto3",
        dependency=[options_pb2.DESCRIPTOR.name, empty_pb2.DESCRIPTOR.name],
    )
    service = file.service.add(name="Probe")
    for method_name in ("Open", "Unannotated", "Operate"):
        service.method.add(
            name=method_name,
            input_type=".google.protobuf.Empty",
            output_type=".google.protobuf.Empty",
        )
    service.method[0].options.Extensions[options_pb2.public] = True
    service.method[2].options.Extensions[options_pb2.allowed_roles].append(
        options_pb2.ROLE_OPERATOR
    )
    pool.AddSerializedFile(file.SerializeToString())


_register_probe_service()


def test_the_raw_call_is_for_services_and_admins_only() -> None:
    raw = method_policy(f"{STATION_CONTROL}/Call")
    assert not raw.public
    assert [role for role in Role if raw.allows(role)] == [Role.ADMIN, Role.SERVICE]


def test_listing_connections_is_open_to_every_role() -> None:
    listing = method_policy(f"{STATION_CONTROL}/ListConnections")
    assert all(listing.allows(role) for role in Role)


def test_commands_are_for_operators_services_and_admins() -> None:
    reset = method_policy(f"{STATION_CONTROL}/Reset")
    assert not reset.allows(Role.VIEWER)
    assert all(reset.allows(role) for role in (Role.OPERATOR, Role.SERVICE, Role.ADMIN))


def test_a_method_without_allowed_roles_is_admin_only() -> None:
    unannotated = method_policy(f"{PROBE}/Unannotated")
    assert [role for role in Role if unannotated.allows(role)] == [Role.ADMIN]


def test_the_public_option_opens_a_method_to_anyone() -> None:
    assert method_policy(f"{PROBE}/Open").public
    assert not method_policy(f"{PROBE}/Operate").public
    assert method_policy(f"{PROBE}/Operate").roles == frozenset({Role.OPERATOR})


def test_methods_unknown_to_the_descriptor_pool_are_admin_only() -> None:
    for unknown in ("/some.Unknown/Method", f"{STATION_CONTROL}/NoSuchMethod", "garbage"):
        policy = method_policy(unknown)
        assert not policy.public
        assert [role for role in Role if policy.allows(role)] == [Role.ADMIN]


@pytest.mark.parametrize(
    "method",
    [
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    ],
)
def test_health_and_reflection_are_public(method: str) -> None:
    assert method_policy(method).public


@pytest.mark.parametrize(
    ("metadata", "token"),
    [
        ((("authorization", "Bearer abc"),), "abc"),
        ((("authorization", "bearer  abc "),), "abc"),
        ((("authorization", b"Bearer abc"),), "abc"),
        ((("x-other", "1"), ("authorization", "Bearer abc")), "abc"),
        ((("authorization", "Basic abc"),), None),
        ((("authorization", "Bearer "),), None),
        ((), None),
        (None, None),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_metadata(
    metadata: object, token: str | None
) -> None:
    assert bearer_token(metadata) == token
