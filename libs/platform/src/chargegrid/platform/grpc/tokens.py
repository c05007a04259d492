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

from chargegrid.platform.logging import get_logger

REGISTRY_FILE = "api-tokens.json"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the registry entry's name (logged) and its role."""

    name: str
    role: Role


def generate_token() -> str:
    """A new random token (256 bits, URL-safe, so it fits a header and a shell)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the registry stores instead of the token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a leftover file
    tmp.replace(path)  # readers see the old file or the new one, never half of one


class TokenRegistry:
    """Tokens accepted by a server, re-read from `path` whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[tuple[str, Principal]] = []
        self._stamp: tuple[int, int, int] | None = None

    @classmethod
    def load(cls, path: Path) -> TokenRegistry:
        """A registry over `path`, read now (a missing file is an empty registry)."""
        registry = cls(path)
        registry._refresh()
        return registry

    def _refresh(self) -> None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._entries, self._stamp = [], None
            return
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if stamp == self._stamp:
            return
        try:
            raw = json.loads(self.path.read_text() or "[]")
            entries = [(str(e["sha256"]), Principal(str(e["name"]), Role(e["role"]))) for e in raw]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A hand-edited file with a typo must not lock every caller out: keep what we had.
            get_logger(__name__).error(
                "api token file unreadable", path=str(self.path), error=str(exc)
            )
            return
        self._entries, self._stamp = entries, stamp

    def authenticate(self, token: str) -> Principal | None:
        """The principal `token` belongs to, or None; every entry is compared."""
        self._refresh()
        digest = hash_token(token)
        found = None
        for stored, principal in self._entries:
            if hmac.compare_digest(stored, digest):  # no early exit: timing says nothing
                found = principal
        return found

    def names(self) -> list[str]:
        self._refresh()
        return [principal.name for _, principal in self._entries]

    def add(self, name: str, role: Role | str, token: str | None = None) -> str:
        """Register a token (a new one unless given) under `name`; return it in plain text.

        A name has one token: adding it again replaces (rotates) the old one.
        """
        plain = token or generate_token()
        self._save(
            [
                *self._without(name),
                {"name": name, "role": Role(role).value, "sha256": hash_token(plain)},
            ]
        )
        return plain

    def remove(self, name: str) -> bool:
        """Revoke the token of `name`; False if there was none."""
        kept = self._without(name)
        if len(kept) == len(self._entries):
            return False
        self._save(kept)
        return True

    def _without(self, name: str) -> list[dict[str, str]]:
        self._refresh()
        return [
            {"name": p.name, "role": p.role.value, "sha256": digest}
            for digest, p in self._entries
            if p.name != name
        ]

    def _save(self, entries: list[dict[str, str]]) -> None:
        write_private(self.path, json.dumps(entries, indent=2) + "\n")
        self._stamp = None


def _ensure_one(registry: TokenRegistry, var_dir: Path, name: str, role: Role) -> str:
    token_file = var_dir / f"{name}.token"
    token = token_file.read_text().strip() if token_file.exists() else ""
    if not token:
        token = generate_token()
        write_private(token_file, token + "\n")
    principal = registry.authenticate(token)
    if principal is None or principal.role is not role:
        registry.add(name, role, token)
    return token


def ensure_bootstrap_tokens(var_dir: Path) -> tuple[str, str]:
    """(admin token, service token): created under `var_dir` once, then returned as they are.

    The plain tokens live in `admin.token` and `service.token` (0600) for the CLI and the
    services of a one-machine stack; `api-tokens.json` holds their hashes. A token file whose
    hash went missing from the registry is registered again rather than replaced.
    """
    registry = TokenRegistry(var_dir / REGISTRY_FILE)
    return (
        _ensure_one(registry, var_dir, "admin", Role.ADMIN),
        _ensure_one(registry, var_dir, "service", Role.SERVICE),
    )
