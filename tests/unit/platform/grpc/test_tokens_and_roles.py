"""Token registry and method roles: hashes only, constant-time checks, roles from protos."""

import json
import os
from pathlib import Path

from chargegrid.api.gateway.v1 import station_control_pb2  # noqa: F401  (registers the service)
from chargegrid.platform.grpc import Role, TokenRegistry, ensure_bootstrap_tokens, method_policy


def test_the_registry_stores_hashes_only_and_in_a_private_file(tmp_path: Path) -> None:
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("ops-dashboard", Role.VIEWER)
    text = (tmp_path / "tokens.json").read_text()
    assert token not in text
    assert json.loads(text)[0]["role"] == "viewer"
    assert oct(os.stat(tmp_path / "tokens.json").st_mode & 0o777) == "0o600"
    principal = registry.authenticate(token)
    assert principal is not None
    assert (principal.name, principal.role) == ("ops-dashboard", Role.VIEWER)
    assert registry.authenticate(token + "x") is None


def test_a_token_added_by_another_process_is_seen_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    server_side = TokenRegistry(path)
    assert server_side.authenticate("anything") is None
    token = TokenRegistry(path).add("cli", Role.OPERATOR)  # e.g. the CLI, elsewhere
    principal = server_side.authenticate(token)
    assert principal is not None
    assert principal.role is Role.OPERATOR


def test_bootstrap_tokens_are_created_once_and_kept(tmp_path: Path) -> None:
    admin, service = ensure_bootstrap_tokens(tmp_path)
    assert ensure_bootstrap_tokens(tmp_path) == (admin, service)
    assert (tmp_path / "admin.token").read_text().strip() == admin
    assert oct((tmp_path / "admin.token").stat().st_mode & 0o777) == "0o600"
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    admin_principal = registry.authenticate(admin)
    service_principal = registry.authenticate(service)
    assert admin_principal is not None
    assert admin_principal.role is Role.ADMIN
    assert service_principal is not None
    assert service_principal.role is Role.SERVICE


def test_roles_come_from_the_proto_method_options() -> None:
    listing = method_policy("/chargegrid.api.gateway.v1.StationControl/ListConnections")
    raw = method_policy("/chargegrid.api.gateway.v1.StationControl/Call")
    assert listing.allows(Role.VIEWER)
    assert not raw.allows(Role.VIEWER)
    assert not raw.allows(Role.OPERATOR)
    assert raw.allows(Role.SERVICE)
    assert raw.allows(Role.ADMIN)


def test_unknown_methods_are_admin_only_and_health_is_public() -> None:
    unknown = method_policy("/some.Unknown/Method")
    assert not unknown.public
    assert not unknown.allows(Role.SERVICE)
    assert unknown.allows(Role.ADMIN)
    assert method_policy("/grpc.health.v1.Health/Check").public
