"""API bearer tokens: who may call, with which role; only hashes are ever stored.

The registry is a JSON file of {name, role, sha256} entries (`var/api-tokens.json` on one
machine, a mounted Secret in Kubernetes). Checks compare SHA-256 digests in constant time,
and the file is re-read when it changes, so a token added by the CLI works without a
restart. `ensure_bootstrap_tokens` creates the admin token the CLI uses and the token
services present to one another on the first `make run`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


def generate_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write_private(path: Path, text: str) -> None:
    """Write `text` readable by the owner only (created 0600, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


class TokenRegistry:
    """Tokens accepted by a server, reloaded from `path` whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[tuple[str, Principal]] = []
        self._mtime: float | None = None

    def _load_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._entries, self._mtime = [], None
            return
        if mtime == self._mtime:
            return
        raw = json.loads(self.path.read_text() or "[]")
        self._entries = [
            (entry["sha256"], Principal(entry["name"], Role(entry["role"]))) for entry in raw
        ]
        self._mtime = mtime

    def authenticate(self, token: str) -> Principal | None:
        """The principal `token` belongs to, or None; every entry is compared."""
        self._load_if_changed()
        digest = hash_token(token)
        found = None
        for stored, principal in self._entries:
            if hmac.compare_digest(stored, digest):
                found = principal
        return found

    def names(self) -> list[str]:
        self._load_if_changed()
        return [principal.name for _, principal in self._entries]

    def add(self, name: str, role: Role, token: str | None = None) -> str:
        """Register a token (a new one unless given) under `name`; return it in plain text."""
        self._load_if_changed()
        plain = token or generate_token()
        entries = [
            {"name": p.name, "role": p.role.value, "sha256": digest}
            for digest, p in self._entries
            if p.name != name
        ]
        entries.append({"name": name, "role": Role(role).value, "sha256": hash_token(plain)})
        _write_private(self.path, json.dumps(entries, indent=2))
        self._mtime = None
        return plain

    def remove(self, name: str) -> bool:
        self._load_if_changed()
        kept = [
            {"name": p.name, "role": p.role.value, "sha256": digest}
            for digest, p in self._entries
            if p.name != name
        ]
        if len(kept) == len(self._entries):
            return False
        _write_private(self.path, json.dumps(kept, indent=2))
        self._mtime = None
        return True


def _ensure_one(registry: TokenRegistry, var_dir: Path, name: str, role: Role) -> str:
    token_file = var_dir / f"{name}.token"
    if token_file.exists():
        token = token_file.read_text().strip()
        if registry.authenticate(token) is None:
            registry.add(name, role, token)
        return token
    token = registry.add(name, role)
    _write_private(token_file, token + "\n")
    return token


def ensure_bootstrap_tokens(var_dir: Path) -> tuple[str, str]:
    """(admin token, service token), created under `var_dir` on the first call only."""
    registry = TokenRegistry(var_dir / "api-tokens.json")
    return (
        _ensure_one(registry, var_dir, "admin", Role.ADMIN),
        _ensure_one(registry, var_dir, "service", Role.SERVICE),
    )
