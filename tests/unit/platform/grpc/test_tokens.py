"""The token registry keeps hashes only, in a private file, and sees changes without restart."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chargegrid.platform.grpc import (
    Role,
    TokenRegistry,
    ensure_bootstrap_tokens,
    generate_token,
    hash_token,
)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_registry_stores_hashes_only_in_a_file_only_its_owner_can_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "api-tokens.json"
    token = TokenRegistry(path).add("ops-dashboard", Role.VIEWER)
    text = path.read_text()
    assert token not in text
    assert json.loads(text) == [
        {"name": "ops-dashboard", "role": "viewer", "sha256": hash_token(token)}
    ]
    assert _mode(path) == 0o600


def test_a_registry_file_left_readable_by_others_becomes_private_on_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "api-tokens.json"
    path.write_text("[]")
    path.chmod(0o644)
    TokenRegistry(path).add("ops", Role.OPERATOR)
    assert _mode(path) == 0o600


def test_a_registered_token_authenticates_as_its_name_and_role(tmp_path: Path) -> None:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    token = registry.add("billing", "service")
    principal = registry.authenticate(token)
    assert principal is not None
    assert (principal.name, principal.role) == ("billing", Role.SERVICE)
    assert registry.authenticate(token + "x") is None
    assert registry.authenticate("") is None


def test_adding_a_name_again_rotates_its_token(tmp_path: Path) -> None:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    old = registry.add("cli", Role.OPERATOR)
    new = registry.add("cli", Role.OPERATOR)
    assert registry.authenticate(old) is None
    assert registry.authenticate(new) is not None
    assert registry.names() == ["cli"]


def test_an_unknown_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        TokenRegistry(tmp_path / "api-tokens.json").add("root", "superuser")


def test_a_token_added_by_another_process_is_seen_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "api-tokens.json"
    server_side = TokenRegistry.load(path)
    assert server_side.authenticate("anything") is None
    token = TokenRegistry(path).add("cli", Role.OPERATOR)  # the CLI, elsewhere
    principal = server_side.authenticate(token)
    assert principal is not None
    assert principal.role is Role.OPERATOR


def test_a_token_removed_by_another_process_stops_working(tmp_path: Path) -> None:
    path = tmp_path / "api-tokens.json"
    server_side = TokenRegistry.load(path)
    token = server_side.add("intern", Role.VIEWER)
    assert server_side.authenticate(token) is not None
    assert TokenRegistry(path).remove("intern")
    assert server_side.authenticate(token) is None
    assert not TokenRegistry(path).remove("intern")


def test_a_broken_registry_file_keeps_the_tokens_already_loaded(tmp_path: Path) -> None:
    path = tmp_path / "api-tokens.json"
    server_side = TokenRegistry(path)
    token = server_side.add("ops", Role.OPERATOR)
    assert server_side.authenticate(token) is not None
    path.write_text('[{"name": "ops", "role": ')  # a hand edit, half done
    assert server_side.authenticate(token) is not None
    assert TokenRegistry.load(path).authenticate(token) is None


def test_generated_tokens_are_long_and_unique() -> None:
    tokens = {generate_token() for _ in range(100)}
    assert len(tokens) == 100
    assert min(len(token) for token in tokens) >= 43


def test_bootstrap_tokens_are_created_once_and_then_kept(tmp_path: Path) -> None:
    admin, service = ensure_bootstrap_tokens(tmp_path)
    assert admin != service
    assert ensure_bootstrap_tokens(tmp_path) == (admin, service)
    assert (tmp_path / "admin.token").read_text().strip() == admin
    assert (tmp_path / "service.token").read_text().strip() == service
    for name in ("admin.token", "service.token", "api-tokens.json"):
        assert _mode(tmp_path / name) == 0o600, name
    registry_text = (tmp_path / "api-tokens.json").read_text()
    assert admin not in registry_text
    assert service not in registry_text
    registry = TokenRegistry.load(tmp_path / "api-tokens.json")
    admin_principal = registry.authenticate(admin)
    service_principal = registry.authenticate(service)
    assert admin_principal is not None
    assert admin_principal.role is Role.ADMIN
    assert service_principal is not None
    assert service_principal.role is Role.SERVICE
    assert sorted(registry.names()) == ["admin", "service"]


def test_a_bootstrap_token_missing_from_the_registry_is_registered_again(tmp_path: Path) -> None:
    admin, service = ensure_bootstrap_tokens(tmp_path)
    os.remove(tmp_path / "api-tokens.json")
    assert ensure_bootstrap_tokens(tmp_path) == (admin, service)
    registry = TokenRegistry.load(tmp_path / "api-tokens.json")
    assert registry.authenticate(admin) is not None
    assert registry.authenticate(service) is not None


def test_bootstrap_keeps_tokens_the_operator_added(tmp_path: Path) -> None:
    ensure_bootstrap_tokens(tmp_path)
    dashboard = TokenRegistry(tmp_path / "api-tokens.json").add("dashboard", Role.VIEWER)
    ensure_bootstrap_tokens(tmp_path)
    assert TokenRegistry.load(tmp_path / "api-tokens.json").authenticate(dashboard) is not None
