"""Station credentials for security profiles 1 and 2 (HTTP Basic on the WebSocket handshake).

The stations service will own per-station passwords; until it answers, the gateway checks a
credentials file (`station_credentials_file`: JSON {station_id: "pbkdf2_sha256$iterations$
salt$hash"}), reloaded when it changes. Passwords are only ever compared as PBKDF2 digests,
in constant time, and a successful check is remembered briefly (keyed by a SHA-256 of the
password, never the password) so reconnect storms do not cost a PBKDF2 each.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from chargegrid.platform.passwords import check_password, hash_password

__all__ = ["CredentialVerifier", "FileCredentials", "basic_credentials", "hash_password"]


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, or None."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


class CredentialVerifier(Protocol):
    async def verify(self, station_id: str, password: str) -> bool: ...


class FileCredentials:
    """Hashed station passwords from a JSON file, re-read when it changes."""

    def __init__(
        self, path: Path, cache_ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.cache_ttl_s = cache_ttl_s
        self.clock = clock
        self._stored: dict[str, str] = {}
        self._mtime: float | None = None
        self._verified: dict[tuple[str, str], float] = {}

    def _load(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._stored, self._mtime = {}, None
            return
        if mtime != self._mtime:
            self._stored = dict(json.loads(self.path.read_text() or "{}"))
            self._mtime = mtime
            self._verified.clear()

    async def verify(self, station_id: str, password: str) -> bool:
        self._load()
        stored = self._stored.get(station_id)
        if stored is None:
            return False
        key = (station_id, hashlib.sha256(password.encode()).hexdigest())
        seen = self._verified.get(key)
        if seen is not None and self.clock() - seen < self.cache_ttl_s:
            return True
        # PBKDF2 is deliberately slow: keep it off the event loop.
        if not await asyncio.to_thread(check_password, password, stored):
            return False
        self._verified[key] = self.clock()
        return True
