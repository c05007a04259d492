"""Station credentials for security profiles 1 and 2 (HTTP Basic on the WebSocket handshake).

The stations service owns per-station passwords (`ServiceCredentials`); without it, or as the
fallback while it cannot answer, the gateway checks a credentials file
(`station_credentials_file`: JSON {station_id: "pbkdf2_sha256$iterations$salt$hash"}),
reloaded when it changes. Passwords are only ever compared as PBKDF2 digests,
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

import grpc

from chargegrid.api.stations.v1 import stations_pb2, stations_pb2_grpc
from chargegrid.platform.logging import get_logger
from chargegrid.platform.passwords import check_password, hash_password

__all__ = [
    "CredentialVerifier",
    "FileCredentials",
    "ServiceCredentials",
    "basic_credentials",
    "hash_password",
]
log = get_logger(__name__)


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


class ServiceCredentials:
    """Passwords checked by the stations service (`VerifyCredentials`).

    A success is remembered for `cache_ttl_s` (keyed by a SHA-256 of the password) so
    reconnect storms cost one call per station; while the service cannot answer, a success
    up to `stale_ttl_s` old still counts, then the `fallback` verifier (the credentials file)
    if one is configured, else the station is refused: never accepted unchecked.
    """

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        timeout_s: float = 2.0,
        cache_ttl_s: float = 60.0,
        stale_ttl_s: float = 3600.0,
        fallback: CredentialVerifier | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = stations_pb2_grpc.StationsStub(channel)
        self.timeout_s = timeout_s
        self.cache_ttl_s = cache_ttl_s
        self.stale_ttl_s = stale_ttl_s
        self.fallback = fallback
        self.clock = clock
        self._verified: dict[tuple[str, str], float] = {}

    async def verify(self, station_id: str, password: str) -> bool:
        key = (station_id, hashlib.sha256(password.encode()).hexdigest())
        seen = self._verified.get(key)
        age = None if seen is None else self.clock() - seen
        if age is not None and age < self.cache_ttl_s:
            return True
        try:
            reply = await self._stub.VerifyCredentials(
                stations_pb2.VerifyCredentialsRequest(station_id=station_id, password=password),
                timeout=self.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "stations service did not verify credentials",
                station_id=station_id,
                error=exc.code().name,
            )
            if age is not None and age < self.stale_ttl_s:
                return True
            return self.fallback is not None and await self.fallback.verify(station_id, password)
        if not reply.valid:
            self._verified.pop(key, None)
            log.info("credentials refused by the stations service", reason=reply.reason)
            return False
        self._verified[key] = self.clock()
        return True
